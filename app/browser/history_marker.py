"""The history marker: a small record in the Spark KV store itself (``backstay:history``) saying
that this hotel has a Backstay history, how long it is and when it was last written.

IndexedDB can be wiped while no page is open (clear site data, another browser, a new
computer). The store outlives that, so a first start that finds a marker knows a history
existed and says so, instead of quietly starting a new one.
"""

from __future__ import annotations

import json
import time
from typing import Any

import js  # type: ignore[import-not-found]

from app.browser.spark_kv import KvUnavailable, SparkKv
from app.core.ports import Batch, VersionStore

MARKER_KEY = "backstay:history"
LOCAL_KEY = "history"
#: The marker is rewritten at most this often while versions are being recorded.
REFRESH_MS = 60_000


def _when(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ms / 1000)) if ms else "an unknown time"


class HistoryMarker:
    def __init__(self, kv: SparkKv) -> None:
        self._kv = kv
        self._written: tuple[str, int] | None = None
        self._written_at = 0

    async def lost_history(self) -> str:
        """Before a first start: the notice to give if the store says a history existed."""
        try:
            text = await self._kv.get_text(MARKER_KEY)
        except KvUnavailable:
            return ""
        try:
            marker: dict[str, Any] = json.loads(text) if text else {}
        except ValueError:
            return ""
        if not isinstance(marker, dict) or not marker.get("historyId"):
            return ""
        return (
            "This browser has no Backstay history, but this hotel has one "
            f"(started {_when(int(marker.get('created') or 0))}, {int(marker.get('versions') or 0)} "
            f"versions, last written {_when(int(marker.get('updated') or 0))} by "
            f"{marker.get('by') or 'unknown'}): this browser's storage was cleared, or this is "
            "another browser or computer. A new history starts here from the data as it is now; "
            "the earlier versions are not available in this browser.")

    async def write(self, store: VersionStore, *, seq: int, head_version_id: str | None,
                    user: str, force: bool = False) -> None:
        """Record in the store that this browser's history reaches version ``seq``."""
        if head_version_id is None:
            return
        now = int(time.time() * 1000)
        local = await self._local(store, now)
        state = (str(local["id"]), seq)
        if state == self._written or (not force and now - self._written_at < REFRESH_MS
                                      and self._written is not None):
            return
        marker = {"historyId": local["id"], "created": local["created"], "versions": seq,
                  "headVersionId": head_version_id, "updated": now, "by": user}
        try:
            await self._kv.set_text(MARKER_KEY, json.dumps(marker))
        except KvUnavailable:
            return  # the next round tries again
        self._written = state
        self._written_at = now

    async def _local(self, store: VersionStore, now: int) -> dict[str, Any]:
        stored = await store.get("meta", LOCAL_KEY)
        if stored:
            try:
                local: dict[str, Any] = json.loads(stored)
                if isinstance(local, dict) and local.get("id"):
                    return local
            except ValueError:
                pass
        local = {"id": str(js.crypto.randomUUID()), "created": now}
        batch = Batch()
        batch.put("meta", LOCAL_KEY, json.dumps(local).encode("utf-8"))
        await store.apply(batch)
        return local
