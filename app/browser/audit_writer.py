"""The audit writer: appends the backup system's actions to the audit chain (app.core.audit.log).

The chain has one writer, the draining engine: another tab's entry is handed to it, and this
tab's are appended one at a time, each naming the browser (``device``) it was made in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from app.browser.access import Access
from app.core.audit.entry import AuditEntry, Result
from app.core.audit.log import append, append_to, new_entry_id, prune
from app.core.chain import Chain
from app.core.clock import now_ms
from app.core.formats.json_value import Json
from app.core.ports import Batch, VersionStore


class AuditWriter:
    def __init__(
        self,
        chain: Callable[[], Awaitable[Chain]],
        device: Callable[[], str | None],
        drainer: Callable[[], bool],
        ask_drainer: Callable[[str, list[Any]], Awaitable[str]],
        access: Callable[[], Access],
    ) -> None:
        """``chain``: the chain at the latest head; ``device``: this browser's name, when its
        storage is open; ``drainer``: whether this engine drains (and so writes the chain);
        ``ask_drainer``: hands a request to the engine that does; ``access``: who acts."""
        self._chain = chain
        self._device = device
        self._drainer = drainer
        self._ask_drainer = ask_drainer
        self._access = access
        # Entries are chained: one append at a time.
        self._lock = asyncio.Lock()

    async def audit(self, entry: AuditEntry) -> None:
        """Append ``entry`` to the audit chain (through the draining engine: one writer)."""
        entry = self._with_device(entry)
        if not self._drainer():
            await self._ask_drainer("audit", [entry.encode().decode("utf-8")])
            return
        chain = await self._chain()
        async with self._lock:
            await append(chain.store, entry)

    def action_entry(self, action: str, result: Result, message: str,
                     details: dict[str, Json]) -> AuditEntry:
        """An audit entry of an action the signed-in user took, now."""
        now = now_ms()
        return AuditEntry(new_entry_id(now), now, self._access().identity.login, action, result,
                          message, details)

    async def audit_action(self, action: str, result: Result, message: str,
                           details: dict[str, Json]) -> None:
        """Audit an action the signed-in user took (see ``audit``)."""
        await self.audit(self.action_entry(action, result, message, details))

    @property
    def lock(self) -> asyncio.Lock:
        """Held by every append: hold it while applying a batch ``put`` added an entry to."""
        return self._lock

    async def put(self, batch: Batch, store: VersionStore, entry: AuditEntry) -> None:
        """Add ``entry`` to ``batch``, which writes it with other writes, atomically (the draining
        engine only; apply the batch before releasing ``lock``)."""
        await append_to(batch, store, self._with_device(entry))

    def _with_device(self, entry: AuditEntry) -> AuditEntry:
        """``entry`` naming the browser it was made in (when known, and not named already)."""
        device = self._device()
        if device is None or "device" in entry.details:
            return entry
        return replace(entry, details={**entry.details, "device": device})

    async def prune(self, before_ms: int, entry: AuditEntry) -> int:
        """Remove audit entries older than ``before_ms``, saying so with ``entry`` (the audit
        retention; the draining engine only, as the one writer of the chain)."""
        chain = await self._chain()
        async with self._lock:
            return await prune(chain.store, before_ms, entry)
