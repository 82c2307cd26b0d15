"""Notices: what Backstay must tell an administrator until they have read it (a journal that
was reset, a history deleted from the browser, a write that could not be recorded).

They are kept in the version store (``meta/notices``), so they outlive a reload, and in memory
for status(), which must answer without waiting on storage.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from app.core.ports import Batch, VersionStore

NOTICES_KEY = "notices"
#: Only the newest notices are kept.
LIMIT = 20


class Notices:
    def __init__(self) -> None:
        self._store: VersionStore | None = None
        self._items: list[dict[str, Any]] = []

    async def attach(self, store: VersionStore) -> None:
        """Read the notices of ``store`` (the store just opened)."""
        self._store = store
        stored = await store.get("meta", NOTICES_KEY)
        try:
            items = json.loads(stored) if stored else []
        except ValueError:
            items = []
        self._items = [item for item in items if isinstance(item, dict) and "id" in item]

    async def add(self, notice_id: str, text: str) -> None:
        """Add a notice: told from now on, even should this browser's storage fail to keep it."""
        batch = Batch()
        self.put(batch, notice_id, text)()
        if self._store is not None:
            await self._store.apply(batch)

    def put(self, batch: Batch, notice_id: str, text: str) -> Callable[[], None]:
        """Add a notice, written by ``batch`` (with whatever else it writes). It is told once
        the returned function is called: after the batch is applied, so a batch that fails
        tells nothing of what it did not do."""
        items = [item for item in self._items if item["id"] != notice_id]
        items.append({"id": notice_id, "text": text, "time": int(time.time() * 1000)})
        items = items[-LIMIT:]
        batch.put("meta", NOTICES_KEY, json.dumps(items).encode("utf-8"))

        def told() -> None:
            self._items = items
        return told

    async def text(self, notice_id: str) -> str:
        return next((str(item["text"]) for item in self._items if item["id"] == notice_id), "")

    def cached(self) -> list[str]:
        return [str(item["text"]) for item in self._items]

    async def clear(self) -> None:
        self._items = []
        await self._save()

    async def _save(self) -> None:
        if self._store is None:
            return
        batch = Batch()
        batch.put("meta", NOTICES_KEY, json.dumps(self._items).encode("utf-8"))
        await self._store.apply(batch)
