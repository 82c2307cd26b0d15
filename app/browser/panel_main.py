"""The backup panel (Settings → System → Version Control & Backups).

Loaded on demand, in the page's main thread, when an admin first opens the panel, so front-desk
staff never pay for a second interpreter. It asks the engine worker for data and renders
app/browser/panel_view.py's markup; new versions (from any tab) refresh it live.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import js  # type: ignore[import-not-found]
from pyodide.ffi import create_proxy  # type: ignore[import-not-found]
from pyscript import workers  # type: ignore[import-not-found]

from app.browser.panel_view import change_list, version_rows

VERSIONS_CHANNEL = "backstay-versions"


class Panel:
    def __init__(self, engine: Any, container: Any) -> None:
        self._engine = engine
        self._container = container
        self._refreshing = False
        self._again = False
        self._proxies: list[Any] = []
        self._channel: Any = None
        self._click: Any = None

    def mount(self) -> None:
        self._container.innerHTML = (
            '<header class="bs-header"><h2>Version history</h2>'
            '<span class="bs-status" data-testid="panel-status"></span>'
            '<span class="bs-problem" role="alert" data-testid="panel-problem"></span></header>'
            '<div class="bs-body"><div class="bs-list" data-testid="panel-versions"></div>'
            '<aside class="bs-detail" data-testid="version-detail"></aside></div>'
        )
        self._click = create_proxy(self._on_click)
        self._proxies.append(self._click)
        self._container.addEventListener("click", self._click)
        message = create_proxy(lambda event: asyncio.ensure_future(self.refresh()))
        self._proxies.append(message)
        self._channel = js.BroadcastChannel.new(VERSIONS_CHANNEL)
        self._channel.onmessage = message

    def unmount(self) -> None:
        """Stop listening (the PMS shows the panel in a new container each time it opens)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._click is not None:
            self._container.removeEventListener("click", self._click)
            self._click = None
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
                self._part("panel-versions").innerHTML = version_rows(versions)
                self._part("panel-status").textContent = f"{len(versions)} versions"
                self._part("panel-problem").textContent = status.get("lastError") or ""
                if not self._again:
                    break
        finally:
            self._refreshing = False

    def _on_click(self, event: Any) -> None:
        row = event.target.closest("tr[data-version-id]")
        if row is not None:
            asyncio.ensure_future(self._show(str(row.dataset.versionId)))

    async def _show(self, version_id: str) -> None:
        detail = json.loads(await self._engine.get_version(version_id))
        self._part("version-detail").innerHTML = change_list(detail)


_current: Panel | None = None


async def open_panel(container: Any) -> None:
    global _current
    if _current is not None:
        _current.unmount()
        _current = None
    engine = await workers["engine"]
    await engine.ready()
    status = json.loads(await engine.status())
    if not status.get("isAdmin"):
        container.innerHTML = (
            '<p class="bs-denied" data-testid="panel-denied">Only administrators can open Version '
            "Control &amp; Backups. Ask the hotel's administrator.</p>"
        )
        return
    panel = _current = Panel(engine, container)
    panel.mount()
    await panel.refresh()


def _on_open(event: Any) -> None:
    asyncio.ensure_future(open_panel(event.detail.container))


_listener = create_proxy(_on_open)
js.window.addEventListener("backstay:panel-open", _listener)
_pending = js.window.__backstayPanelPending
if _pending:
    asyncio.ensure_future(open_panel(_pending))
