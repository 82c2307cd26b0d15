"""The panel's retention settings, cleanup, and deletion of one version."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from app.browser.cleanup_view import cleaned_view, cleanup_preview, delete_confirm, retention_form
from app.browser.restore_view import failure_view


class CleanupPane:
    ACTIONS = ("save-retention", "preview-cleanup", "confirm-cleanup", "delete-version",
               "confirm-delete")

    def __init__(self, engine: Any, part: Callable[[str], Any], can: dict[str, bool],
                 versions: Callable[[], list[dict[str, Any]]], detail: Callable[[str], None],
                 refresh: Callable[[], Awaitable[None]]) -> None:
        self._engine = engine
        self._part = part
        self._can = can
        self._versions = versions
        self._detail = detail
        self._refresh = refresh
        self._previewed: dict[str, Any] = {}  # the retention the shown cleanup preview used
        self._expected: list[str] = []  # and the versions it listed

    async def show(self) -> None:
        settings = json.loads(await self._engine.settings())
        view = self._part("retention-view")
        if view:
            view.innerHTML = (failure_view(str(settings["error"])) if "error" in settings else
                              retention_form(settings["retention"], bool(self._can.get("settings")),
                                             bool(self._can.get("delete"))))

    async def act(self, action: str, element: Any) -> None:
        if action == "delete-version":
            version_id = str(element.dataset.versionId)
            version = next((v for v in self._versions() if v.get("id") == version_id),
                           {"id": version_id})
            self._detail(delete_confirm(version))
        elif action == "confirm-delete":
            answer = json.loads(await self._engine.delete_version(str(element.dataset.versionId)))
            self._detail(failure_view(str(answer["error"])) if "error" in answer else
                         '<p data-testid="delete-outcome">The version was deleted.</p>')
            await self._refresh()
        elif action == "save-retention":
            answer = json.loads(await self._engine.set_settings(json.dumps(
                {"retention": self._form_values(element.closest("form"))})))
            self._result(failure_view(str(answer["error"])) if "error" in answer else
                         '<p data-testid="retention-saved">Saved.</p>')
        elif action == "preview-cleanup":
            options = {"dryRun": True, "retention": self._form_values(element.closest("form"))}
            answer = json.loads(await self._engine.cleanup(json.dumps(options)))
            self._previewed = options["retention"]
            self._expected = list(answer.get("wouldDelete", [])) if "error" not in answer else []
            byid = {str(v.get("id")): v for v in self._versions()}
            self._result(failure_view(str(answer["error"])) if "error" in answer
                         else cleanup_preview(answer, byid))
        elif action == "confirm-cleanup":
            answer = json.loads(await self._engine.cleanup(json.dumps(
                {"retention": self._previewed, "expect": self._expected})))
            self._result(failure_view(str(answer["error"])) if "error" in answer
                         else cleaned_view(answer))
            await self._refresh()

    def _result(self, html: str) -> None:
        self._part("cleanup-result").innerHTML = html

    @staticmethod
    def _form_values(form: Any) -> dict[str, Any]:
        def number(name: str) -> int | str | None:
            text = str(form.querySelector(f'[name="{name}"]').value).strip()
            # Empty is "no limit"; anything but digits goes as typed, for the engine to refuse.
            return int(text) if text.isascii() and text.isdigit() else (text or None)
        return {"maxAgeDays": number("maxAgeDays"), "maxVersions": number("maxVersions"),
                "keepBackups": bool(form.querySelector('[name="keepBackups"]').checked),
                "auditMaxAgeDays": number("auditMaxAgeDays")}
