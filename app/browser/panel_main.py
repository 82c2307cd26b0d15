"""The backup panel (Settings → System → Version Control & Backups).

Loaded on demand, in the page's main thread, when an admin first opens the panel, so front-desk
staff never pay for a second interpreter. It asks the engine worker for data and renders
app/browser/panel_view.py's markup; new versions (from any tab) refresh it live.
"""

from __future__ import annotations

import asyncio
import json
from html import escape
from typing import Any

import js  # type: ignore[import-not-found]
from pyodide.ffi import create_proxy  # type: ignore[import-not-found]

from app.browser.audit_pane import AuditPane
from app.browser.audit_view import trail_form
from app.browser.backup_pane import BackupPane
from app.browser.backup_view import backup_form
from app.browser.cleanup_pane import CleanupPane
from app.browser.panel_view import PAGE, change_list, comparison_view, version_rows
from app.browser.restore_view import failure_view, outcome_view, preview_view, restore_form

VERSIONS_CHANNEL = "backstay-versions"


class Panel:
    def __init__(self, engine: Any, container: Any, can: dict[str, bool]) -> None:
        self._engine = engine
        self._can = can
        self._audit = AuditPane(engine, self._part)
        self._backups = BackupPane(engine, self._part, can, self.refresh)
        self._cleanup = CleanupPane(engine, self._part, can, lambda: self._versions, self._detail,
                                    self.refresh)
        self._container = container
        self._refreshing = False
        self._again = False
        self._proxies: list[Any] = []
        self._channel: Any = None
        self._listeners: list[tuple[str, Any]] = []
        self._versions: list[dict[str, Any]] = []
        # What the detail pane shows (re-rendered for "Show more"), and records shown per module.
        self._view: tuple[str, dict[str, Any], str, str] | None = None
        self._shown: dict[str, int] = {}
        self._restore: tuple[str, dict[str, Any]] | None = None  # the previewed target, options
        # What the user picked in the preview and chose for its conflicts (kept across redraws).
        self._picked: dict[tuple[str, str], None] = {}
        self._choices: dict[tuple[str, str], str] = {}

    def mount(self) -> None:
        self._container.innerHTML = (
            '<header class="bs-header"><h2>Version history</h2>'
            '<span class="bs-status" data-testid="panel-status"></span>'
            '<span class="bs-problem" role="alert" data-testid="panel-problem"></span></header>'
            '<div class="bs-body"><div class="bs-list" data-testid="panel-versions"></div>'
            '<aside class="bs-detail" data-testid="version-detail"></aside></div>'
            '<details class="bs-log" data-testid="backups-section"><summary>Backup files</summary>'
            f"{backup_form(self._can)}</details>"
            '<details class="bs-log" data-testid="retention-section"><summary>Retention and cleanup'
            '</summary><div data-testid="retention-view"></div></details>'
            '<details class="bs-log" data-testid="audit-section"><summary>Audit trail</summary>'
            f"{trail_form()}</details>"
            '<details class="bs-log" data-testid="permissions-section"><summary>Who may do what'
            '</summary><div data-testid="permissions-view"></div></details>'
        )
        for name, handler in (("click", self._on_click), ("change", self._on_change)):
            proxy = create_proxy(handler)
            self._proxies.append(proxy)
            self._listeners.append((name, proxy))
            self._container.addEventListener(name, proxy)
        message = create_proxy(lambda event: asyncio.ensure_future(self.refresh()))
        self._proxies.append(message)
        self._channel = js.BroadcastChannel.new(VERSIONS_CHANNEL)
        self._channel.onmessage = message

    def unmount(self) -> None:
        """Stop listening (the PMS shows the panel in a new container each time it opens)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        for name, proxy in self._listeners:
            self._container.removeEventListener(name, proxy)
        self._listeners.clear()
        for proxy in self._proxies:
            proxy.destroy()
        self._proxies.clear()

    def _part(self, testid: str) -> Any:
        return self._container.querySelector(f'[data-testid="{testid}"]')

    async def refresh(self) -> None:
        if self._refreshing:
            self._again = True
            return
        self._refreshing = True
        try:
            while True:
                self._again = False
                versions = json.loads(await self._engine.list_versions())
                status = json.loads(await self._engine.status())

                # Everything the panel shows changes at once, with no await in between.
                self._versions = versions if isinstance(versions, list) else []
                self._part("panel-versions").innerHTML = version_rows(
                    self._versions, can_restore=bool(self._can.get("restore")),
                    can_delete=bool(self._can.get("delete")))
                self._part("panel-status").textContent = f"{len(self._versions)} versions"
                self._part("panel-problem").textContent = status.get("lastError") or ""
                if bool(status.get("historyLost")) != bool(self._part("new-history")):
                    self._backups.show_new_history(status)
                if not self._again:
                    break
        finally:
            self._refreshing = False

    # ---- events ---------------------------------------------------------------------------

    def _on_click(self, event: Any) -> None:
        target = event.target.closest("[data-action]")
        if target:  # a JS null is a falsy JsNull, not None
            event.preventDefault()
            data = target.dataset
            work = self._action(str(data.action), str(data.versionId or ""), target)
            asyncio.ensure_future(self._guarded(work))
            return
        row = event.target.closest("tr[data-version-id]")
        if row:
            asyncio.ensure_future(self._guarded(self._show(str(row.dataset.versionId))))

    async def show_extras(self) -> None:
        """The audit trail's newest rows and the permissions (below the versions)."""
        await self._guarded(self._audit.show_trail())
        await self._guarded(self._audit.show_permissions())
        await self._guarded(self._cleanup.show())
        await self._guarded(self._backups.show())

    def _on_change(self, event: Any) -> None:
        element = event.target
        ref = (str(element.dataset.module or ""), str(element.dataset.recordId or ""))
        if element.dataset.testid == "record-choice":
            if element.checked:
                self._picked[ref] = None
            else:
                self._picked.pop(ref, None)
        elif element.dataset.testid == "conflict-choice":
            self._choices[ref] = str(element.value)
        elif element.dataset.testid == "compare-with":
            asyncio.ensure_future(self._guarded(
                self._compare(str(element.dataset.versionId), str(element.value))))

    async def _guarded(self, work: Any) -> None:
        try:
            await work
        except Exception as error:  # noqa: BLE001 - shown in the panel, never lost
            self._detail(failure_view(f"Something went wrong: {error}"))

    async def _action(self, action: str, version_id: str, element: Any) -> None:
        if action == "compare":
            await self._compare(version_id, "today")
        elif action in ("restore", "revert"):
            await self._restore_form(version_id, "full" if action == "restore" else "revert")
        elif action == "preview":
            await self._preview(element.closest("form"))
        elif action in ("confirm", "confirm-picked"):
            await self._confirm(str(element.dataset.head or ""), picked=action == "confirm-picked")
        elif action == "undo-restore":
            await self._undo(version_id, str(element.dataset.parent or ""))
        elif action in AuditPane.ACTIONS:
            await self._audit.act(action, element)
        elif action in BackupPane.ACTIONS:
            await self._backups.act(action, element)
        elif action in CleanupPane.ACTIONS:
            await self._cleanup.act(action, element)
        elif action == "more":
            module = str(element.dataset.module)
            self._shown[module] = self._shown.get(module, PAGE) + PAGE
            self._render_view()

    # ---- what the detail pane shows --------------------------------------------------------

    def _detail(self, html: str) -> None:
        self._part("version-detail").innerHTML = html

    def _render_view(self) -> None:
        if self._view is None:
            return
        kind, data, a_id, b_id = self._view
        if kind == "compare":
            self._detail(comparison_view(data, self._versions, a_id, b_id, self._shown))
        else:
            self._part("restore-preview").innerHTML = preview_view(
                data, self._shown, frozenset(self._picked), self._choices)

    def _version(self, version_id: str) -> dict[str, Any]:
        return next((v for v in self._versions if v["id"] == version_id), {"id": version_id,
                                                                           "timestamp": 0})

    async def _show(self, version_id: str) -> None:
        detail = _answer(await self._engine.get_version(version_id))
        self._view = None
        self._detail(change_list(detail))

    async def _compare(self, a_id: str, b_id: str) -> None:
        self._detail('<p class="bs-loading">Comparing…</p>')
        comparison = _answer(await self._engine.compare_versions(json.dumps(a_id), json.dumps(b_id)))
        self._view, self._shown = ("compare", comparison, a_id, b_id), {}
        self._render_view()

    async def _restore_form(self, version_id: str, mode: str) -> None:
        version = self._version(version_id)
        if mode == "revert":
            modules = list(version.get("modules", []))
        else:
            self._detail('<p class="bs-loading">Looking at what differs from today…</p>')
            comparison = _answer(await self._engine.compare_versions(
                json.dumps(version_id), json.dumps("today")))
            modules = [str(m["module"]) for m in comparison.get("modules", [])]
        self._view, self._restore = None, None
        self._detail(restore_form(version, mode, modules))

    async def _preview(self, form: Any) -> None:
        version_id = str(form.dataset.versionId)
        mode = str(form.dataset.mode)
        if mode != "revert":
            checked = form.querySelector('input[name="bs-mode"]:checked')
            mode = str(checked.value) if checked else "full"
        modules = [str(box.value) for box in form.querySelectorAll('input[name="bs-module"]:checked')]
        if not modules:
            self._part("restore-preview").innerHTML = failure_view("Choose at least one module.")
            return
        await self._show_preview(version_id, {"mode": mode, "modules": modules})

    async def _show_preview(self, target: str, options: dict[str, Any]) -> None:
        pane = self._part("restore-preview")
        if not pane:
            self._detail('<div data-testid="restore-preview" aria-live="polite"></div>')
            pane = self._part("restore-preview")
        pane.innerHTML = '<p class="bs-loading" data-testid="preview-progress">Preparing the preview…</p>'
        preview = _answer(await self._engine.preview_restore(json.dumps(target), json.dumps(options)))
        self._restore = (target, options)
        self._view, self._shown = ("preview", preview, target, ""), {}
        self._picked, self._choices = {}, {}
        self._render_view()

    async def _confirm(self, head: str, picked: bool = False) -> None:
        if self._restore is None:
            return
        target, options = self._restore
        if picked:
            records = [{"module": module, "recordId": record_id}
                       for module, record_id in self._picked]
            if not records:
                self._part("restore-preview").insertAdjacentHTML(
                    "beforeend", failure_view("Pick at least one record first."))
                return
            options = {key: value for key, value in options.items() if key != "modules"}
            options["records"] = records
        resolutions = [{"module": module, "recordId": record_id, "keep": keep}
                       for (module, record_id), keep in self._choices.items()]
        pane = self._part("restore-preview")
        pane.innerHTML = '<p class="bs-loading" data-testid="restore-progress">Restoring…</p>'
        answer = json.loads(await self._engine.restore_version(json.dumps(target), json.dumps(
            {**options, "resolutions": resolutions, "expectHead": head or None})))
        self._restore, self._view = None, None
        if isinstance(answer, dict) and "error" in answer:
            pane.innerHTML = failure_view(str(answer["error"]))
        else:
            pane.innerHTML = outcome_view(answer)
        await self.refresh()

    async def _undo(self, restore_id: str, parent_id: str) -> None:
        """Undo a restore: preview restoring what it changed to the version before it."""
        modules = list(self._version(restore_id).get("modules", []))
        if not modules:
            detail = _answer(await self._engine.get_version(restore_id))
            modules = list(detail.get("modules", []))
        self._detail('<h3 data-testid="restore-title">Undo this restore</h3>'
                     '<div data-testid="restore-preview" aria-live="polite"></div>')
        await self._show_preview(parent_id, {"mode": "full", "modules": modules})


def _answer(text: str) -> dict[str, Any]:
    """An engine answer; its error as an exception (shown in the panel)."""
    answer = json.loads(text)
    if isinstance(answer, dict) and "error" in answer:
        raise PanelError(str(answer["error"]))
    return dict(answer) if isinstance(answer, dict) else {"value": answer}


class PanelError(Exception):
    """An error the engine answered with; its message is for the user."""


_current: Panel | None = None


class EngineLink:
    """The engine worker's functions (each answers JSON text), called through the page's facade
    (static/backstay/facade.js, ``__backstayEngine``): it follows the engine when the page
    replaces its worker after a large first start, and a call made meanwhile waits for the new
    one."""

    def __getattr__(self, name: str) -> Any:
        async def call(*args: Any) -> str:
            return str(await _engine_calls().call(name, *args))
        return call


def _engine_calls() -> Any:
    return js.window.__backstayEngine  # (outside a class: no name mangling)


async def open_panel(container: Any) -> None:
    global _current
    if _current is not None:
        _current.unmount()
        _current = None
    engine = EngineLink()
    await engine.ready()
    allowed = json.loads(await engine.open_panel())  # a refusal is audited by the engine
    if "error" in allowed:
        container.innerHTML = (
            '<p class="bs-denied" data-testid="panel-denied">Only administrators can open Version '
            "Control &amp; Backups. Ask the hotel's administrator.</p>"
            f'<p class="bs-muted">{escape(str(allowed["error"]))}</p>'
        )
        return
    panel = _current = Panel(engine, container, dict(allowed.get("can") or {}))
    panel.mount()
    await panel.refresh()
    await panel.show_extras()


def _on_open(event: Any) -> None:
    asyncio.ensure_future(open_panel(event.detail.container))


_listener = create_proxy(_on_open)
js.window.addEventListener("backstay:panel-open", _listener)
_pending = js.window.__backstayPanelPending
if _pending:
    asyncio.ensure_future(open_panel(_pending))
