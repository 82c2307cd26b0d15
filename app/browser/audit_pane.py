"""The panel's audit trail (filter, export, verify) and permissions, below the versions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import js  # type: ignore[import-not-found]
from pyodide.ffi import to_js  # type: ignore[import-not-found]

from app.browser.audit_view import permissions_view, trail_rows, verify_result
from app.browser.restore_view import failure_view


class AuditPane:
    ACTIONS = ("trail", "export-csv", "export-json", "verify", "save-permission")

    def __init__(self, engine: Any, part: Callable[[str], Any]) -> None:
        self._engine = engine
        self._part = part

    async def act(self, action: str, element: Any) -> None:
        if action == "trail":
            await self.show_trail()
        elif action in ("export-csv", "export-json"):
            await self._export(action.removeprefix("export-"))
        elif action == "verify":
            self._part("trail-result").innerHTML = '<p class="bs-loading">Verifying…</p>'
            report = json.loads(await self._engine.verify(json.dumps({"full": True})))
            self._part("trail-result").innerHTML = (
                failure_view(str(report["error"])) if "error" in report else verify_result(report))
        elif action == "save-permission":
            await self._save_permission(str(element.dataset.permission))

    def _trail_filter(self) -> dict[str, str]:
        form = self._part("trail-filter")
        values = {name: str(form.querySelector(f'[name="{name}"]').value).strip()
                  for name in ("user", "module", "kind", "text")}
        return {name: value for name, value in values.items() if value}

    async def show_trail(self) -> None:
        self._part("trail-rows").innerHTML = '<p class="bs-loading">Reading the audit trail…</p>'
        rows = json.loads(await self._engine.audit_trail(json.dumps(self._trail_filter())))
        if isinstance(rows, dict) and "error" in rows:
            self._part("trail-rows").innerHTML = failure_view(str(rows["error"]))
            return
        self._part("trail-rows").innerHTML = trail_rows(rows)

    async def _export(self, file_format: str) -> None:
        exported = json.loads(await self._engine.export_audit_trail(
            file_format, json.dumps(self._trail_filter())))
        if "error" in exported:
            self._part("trail-result").innerHTML = failure_view(str(exported["error"]))
            return
        mime = "text/csv" if file_format == "csv" else "application/json"
        blob = js.Blob.new(to_js([exported["text"]]),
                           to_js({"type": mime}, dict_converter=js.Object.fromEntries))
        url = js.URL.createObjectURL(blob)
        link = js.document.createElement("a")
        link.href = url
        link.download = f"backstay-audit-trail.{file_format}"
        js.document.body.append(link)
        link.click()
        link.remove()
        js.URL.revokeObjectURL(url)
        self._part("trail-result").textContent = f"Exported {exported['rows']} rows."

    async def show_permissions(self) -> None:
        data = json.loads(await self._engine.permissions())
        view = self._part("permissions-view")
        if view:
            view.innerHTML = (failure_view(str(data["error"])) if "error" in data
                              else permissions_view(data))

    async def _save_permission(self, permission: str) -> None:
        field = self._part(f"roles-{permission}")
        roles = [role.strip() for role in str(field.value).split(",") if role.strip()]
        answer = json.loads(await self._engine.set_permission(permission, json.dumps(roles)))
        await self.show_permissions()
        if isinstance(answer, dict) and "error" in answer:
            self._part("permissions-view").insertAdjacentHTML(
                "afterbegin", failure_view(str(answer["error"])))
