"""AuditWriter (app/browser/audit_writer.py): the one writer of the audit chain. This tab's
entries are appended one at a time, each naming the browser it was made in; a tab that does not
drain hands its entries to the one that does; an entry written with other writes is chained in
the same batch. On a MemoryStore: the chain's appends are the core's, checked by verify_audit."""

from __future__ import annotations

import asyncio
from typing import Any

from app.browser.access import Access
from app.browser.audit_writer import AuditWriter
from app.core.audit.entry import AuditEntry
from app.core.audit.log import entries, verify_audit
from app.core.chain import Chain
from app.core.memory_store import MemoryStore
from app.core.ports import Batch, Collection
from tests.conftest import build_chain


class SlowStore(MemoryStore):
    """A store whose reads give way to other tasks before they answer, as IndexedDB's do."""

    async def get(self, collection: Collection, key: str) -> bytes | None:
        found = await super().get(collection, key)
        await asyncio.sleep(0)
        return found


def _writer(chain: Chain, *, device: str | None = "front-desk", drainer: bool = True,
            asked: list[tuple[str, list[Any]]] | None = None) -> AuditWriter:
    access = Access()
    access.set_user({"login": "ann", "isOwner": True})

    async def fresh() -> Chain:
        return chain

    async def ask(kind: str, args: list[Any]) -> str:
        assert asked is not None, "a draining writer asked another engine"
        asked.append((kind, args))
        return "true"

    return AuditWriter(fresh, lambda: device, lambda: drainer, ask, lambda: access)


def test_actions_are_chained_one_at_a_time_each_naming_its_user_and_device() -> None:
    chain, store, _ = build_chain(store=SlowStore())
    writer = _writer(chain)

    async def run() -> None:
        # Appended at once: the lock keeps them one after the other (none lost, one chain).
        await asyncio.gather(*(writer.audit_action("export", "done", f"export {n}", {"n": n})
                               for n in range(5)))

    asyncio.run(run())
    found = asyncio.run(entries(store))
    assert sorted(entry.details["n"] for entry in found) == [0, 1, 2, 3, 4]  # type: ignore[type-var]
    assert {entry.user for entry in found} == {"ann"}
    assert {entry.details["device"] for entry in found} == {"front-desk"}
    assert asyncio.run(verify_audit(store)) == []


def test_a_device_already_named_is_kept_and_an_unknown_one_left_out() -> None:
    chain, store, _ = build_chain()
    named = AuditEntry("e1", 1, "bob", "restore", "done", "", {"device": "the other tab's"})
    asyncio.run(_writer(chain).audit(named))
    asyncio.run(_writer(chain, device=None).audit_action("export", "done", "", {}))
    found = asyncio.run(entries(store))
    assert {entry.action: entry.details.get("device") for entry in found} == {
        "restore": "the other tab's", "export": None}
    assert asyncio.run(verify_audit(store)) == []


def test_a_tab_that_does_not_drain_hands_its_entry_over_and_writes_nothing() -> None:
    chain, store, _ = build_chain()
    asked: list[tuple[str, list[Any]]] = []
    asyncio.run(_writer(chain, drainer=False, asked=asked).audit_action(
        "read-audit", "denied", "not allowed", {"permission": "view"}))
    assert asyncio.run(entries(store)) == []
    assert [kind for kind, _ in asked] == ["audit"]
    handed = AuditEntry.decode(str(asked[0][1][0]).encode("utf-8"))
    assert (handed.user, handed.action, handed.result) == ("ann", "read-audit", "denied")
    assert handed.details == {"permission": "view", "device": "front-desk"}
    # The draining engine appends it as it came.
    asyncio.run(_writer(chain, device="drainer's").audit(handed))
    assert [entry.details["device"] for entry in asyncio.run(entries(store))] == ["front-desk"]


def test_an_entry_put_in_a_batch_is_written_with_it_or_not_at_all() -> None:
    chain, store, _ = build_chain()
    writer = _writer(chain)
    asyncio.run(writer.audit_action("settings", "done", "", {}))

    async def with_other_writes(apply: bool) -> None:
        batch = Batch()
        batch.put("meta", "something-else", b"1")
        async with writer.lock:
            await writer.put(batch, store, writer.action_entry("new-history", "done", "", {}))
            if apply:
                await store.apply(batch)

    asyncio.run(with_other_writes(apply=False))
    assert [entry.action for entry in asyncio.run(entries(store))] == ["settings"]
    asyncio.run(with_other_writes(apply=True))
    assert [entry.action for entry in asyncio.run(entries(store))] == ["settings", "new-history"]
    assert asyncio.run(store.get("meta", "something-else")) == b"1"
    assert asyncio.run(verify_audit(store)) == []
