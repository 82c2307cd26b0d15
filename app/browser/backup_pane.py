"""The panel's backup files section: export today's data, preview and import a file."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import js  # type: ignore[import-not-found]

from app.browser.backup_view import (
    exported_view,
    import_preview_view,
    imported_view,
    new_history_view,
    passphrase_view,
)
from app.browser.ffi import js_bytes, js_value, py_bytes
from app.browser.restore_view import failure_view


class BackupPane:
    ACTIONS = ("export-backup", "preview-import", "confirm-import", "save-passphrase",
               "remove-passphrase", "new-history", "confirm-new-history", "cancel-new-history")

    def __init__(self, engine: Any, part: Callable[[str], Any], can: dict[str, bool],
                 refresh: Callable[[], Awaitable[None]]) -> None:
        self._engine = engine
        self._part = part
        self._can = can
        self._refresh = refresh
        self._import: tuple[str, dict[str, Any]] | None = None  # the previewed file, options
        self._starting = False  # a new history is being started from here

    def show_new_history(self, status: dict[str, Any], confirming: bool = False) -> None:
        """The way on from a damaged history, when the engine's ``status`` says it stopped."""
        view = self._part("new-history-view")
        if view and not self._starting:
            view.innerHTML = new_history_view(bool(status.get("historyLost")),
                                              bool(self._can.get("delete")), confirming)

    async def show(self) -> None:
        """Whether backups are sealed with the hotel's passphrase (and the form to change it)."""
        self.show_new_history(json.loads(await self._engine.status()))
        status = json.loads(await self._engine.passphrase())
        view = self._part("passphrase-view")
        if view:
            view.innerHTML = (failure_view(str(status["error"])) if "error" in status else
                              passphrase_view(status, bool(self._can.get("passphrase"))))

    async def act(self, action: str, element: Any) -> None:
        if action in ("new-history", "confirm-new-history", "cancel-new-history"):
            await self._new_history(action)
            return
        if action in ("save-passphrase", "remove-passphrase"):
            await self._passphrase(element.closest("form"), remove=action == "remove-passphrase")
            return
        result = self._part("backup-result")
        try:
            if action == "export-backup":
                await self._export(element.closest("form"))
            elif action == "preview-import":
                await self._preview(element.closest("form"))
            elif action == "confirm-import":
                await self._confirm(str(element.dataset.head or ""))
        except BackupPaneError as error:
            result.innerHTML = failure_view(str(error))

    async def _export(self, form: Any) -> None:
        passphrase = str(form.querySelector('[name="passphrase"]').value)
        options = {"passphrase": passphrase or None,
                   "compress": bool(form.querySelector('[name="compress"]').checked)}
        self._part("backup-result").innerHTML = (
            '<p class="bs-loading">Writing the backup file…</p>')
        answer = _answer(await self._engine.export_backup(json.dumps(options)))
        data = base64.b64decode(str(answer["data"]))
        blob = js.Blob.new(js_value([js_bytes(data)]), js_value({"type": answer["mime"]}))
        url = js.URL.createObjectURL(blob)
        link = js.document.createElement("a")
        link.href = url
        link.download = str(answer["filename"])
        js.document.body.append(link)
        link.click()
        link.remove()
        js.URL.revokeObjectURL(url)
        form.querySelector('[name="passphrase"]').value = ""
        self._part("backup-result").innerHTML = exported_view(answer)

    async def _preview(self, form: Any) -> None:
        files = form.querySelector('[name="file"]').files
        if not files.length:
            raise BackupPaneError("Choose a backup file first.")
        checked = form.querySelector('input[name="import-mode"]:checked')
        options = {"mode": str(checked.value) if checked else "full"}
        passphrase = str(form.querySelector('[name="passphrase"]').value)
        if passphrase:
            options["passphrase"] = passphrase
        self._part("backup-result").innerHTML = '<p class="bs-loading">Reading the file…</p>'
        data = base64.b64encode(py_bytes(await files.item(0).arrayBuffer())).decode("ascii")
        answer = _answer(await self._engine.preview_import(data, json.dumps(options)))
        self._import = (data, options)
        self._part("backup-result").innerHTML = import_preview_view(answer)

    async def _confirm(self, head: str) -> None:
        if self._import is None:
            return
        data, options = self._import
        self._part("backup-result").innerHTML = '<p class="bs-loading">Importing…</p>'
        answer = _answer(await self._engine.import_backup(
            data, json.dumps({**options, "expectHead": head or None})))
        self._import = None
        self._part("backup-result").innerHTML = imported_view(answer)
        await self._refresh()


    async def _new_history(self, action: str) -> None:
        status = json.loads(await self._engine.status())
        if action != "confirm-new-history":
            self.show_new_history(status, confirming=action == "new-history")
            return
        view = self._part("new-history-view")
        if not view or self._starting:
            return
        self._starting = True
        try:
            view.innerHTML = '<p class="bs-loading">Starting a new history…</p>'
            answer = json.loads(await self._engine.start_new_history(json.dumps({"confirm": True})))
        finally:
            self._starting = False
        if isinstance(answer, dict) and "error" in answer:
            self.show_new_history(status)
            view.innerHTML += failure_view(str(answer["error"]))
            return
        view.innerHTML = ('<p data-testid="new-history-started">A new history was started: '
                          "today's data is being recorded as its first version.</p>")
        await self._refresh()

    async def _passphrase(self, form: Any, *, remove: bool) -> None:
        def value(name: str) -> str:
            field = form.querySelector(f'[name="{name}"]')
            return str(field.value) if field else ""
        new, repeat = value("new"), value("repeat")
        if not remove and new != repeat:
            self._part("passphrase-result").innerHTML = failure_view(
                "The two new passphrases differ: type the same one twice.")
            return
        options = {"passphrase": None if remove else new, "current": value("current") or None}
        self._part("passphrase-result").innerHTML = '<p class="bs-loading">Saving…</p>'
        answer = json.loads(await self._engine.set_passphrase(json.dumps(options)))
        for name in ("current", "new", "repeat"):
            field = form.querySelector(f'[name="{name}"]')
            if field:
                field.value = ""
        if "error" in answer:
            self._part("passphrase-result").innerHTML = failure_view(str(answer["error"]))
            return
        await self.show()
        self._part("passphrase-result").innerHTML = (
            '<p data-testid="passphrase-saved">' + ("Removed." if remove else "Saved.") + "</p>")


class BackupPaneError(Exception):
    """What the engine answered instead; shown in the section."""


def _answer(text: str) -> dict[str, Any]:
    answer = json.loads(text)
    if isinstance(answer, dict) and "error" in answer:
        raise BackupPaneError(str(answer["error"]))
    return dict(answer)
