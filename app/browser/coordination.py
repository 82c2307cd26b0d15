"""Coordination between tabs: one engine drains the journal (Web Locks), and every tab hears of
new journal entries and new versions (BroadcastChannel)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from app.browser.ffi import create_proxy, js_value, py_value

ENGINE_LOCK = "backstay-engine"
JOURNAL_CHANNEL = "backstay-journal"
VERSIONS_CHANNEL = "backstay-versions"


class Coordination:
    def __init__(self, idb: Any) -> None:
        self._idb = idb
        self._release: Any = None
        self._proxies: list[Any] = []
        self._channels: list[Any] = []

    async def become_drainer(self) -> None:
        """Wait until this tab's engine holds the engine lock; it keeps it until the tab closes."""
        self._release = await self._idb.acquireLock(ENGINE_LOCK)

    def on_journal(self, wake: asyncio.Event, intent: Callable[[dict[str, Any]], None]) -> None:
        """Wake the engine on every journal message; pass on each write announced at call
        time (``{type: "intent", key, collection, start, tab}``)."""
        def heard(message: Any) -> None:
            if isinstance(message, dict) and message.get("type") == "intent":
                intent(message)
            wake.set()
        self.listen(JOURNAL_CHANNEL, heard)

    def listen(self, channel: str, callback: Callable[[Any], None]) -> None:
        proxy = create_proxy(lambda data: callback(py_value(data)))
        self._proxies.append(proxy)
        self._channels.append(self._idb.listen(channel, proxy))

    def announce_version(self, version: dict[str, Any]) -> None:
        self._idb.broadcast(VERSIONS_CHANNEL, js_value({"type": "version", "version": version}))

    def announce_status(self, status: dict[str, Any]) -> None:
        """Tell every tab the drainer's status (its problems are shown in each PMS page)."""
        self._idb.broadcast(VERSIONS_CHANNEL, js_value({"type": "status", "status": status}))

    def announce_restored(self, version: dict[str, Any], keys: list[str]) -> None:
        """Tell every tab that a restore changed ``keys`` behind the PMS's back (facade.js
        turns it into the page event ``backstay:restored``)."""
        self._idb.broadcast(VERSIONS_CHANNEL, js_value(
            {"type": "restored", "version": version, "keys": keys}))
