"""The VersionStore contract: checks that every store implementation must pass.

No pytest in here: each check is a plain coroutine taking a factory of fresh, empty stores, and
raising AssertionError (via ``_expect``) on failure, so the browser can run the same checks
against IdbStore inside Pyodide. ``await check_store_contract(make_store)`` runs them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from app.core.ports import COLLECTIONS, Batch, StoreError, VersionStore

StoreFactory = Callable[[], Awaitable[VersionStore]]


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


async def check_empty_store(make_store: StoreFactory) -> None:
    store = await make_store()
    for collection in COLLECTIONS:
        _expect(await store.keys(collection) == [], f"{collection} is not empty")
        _expect(await store.get(collection, "absent") is None, "absent key is not None")
        _expect(await store.get_many(collection, ["a", "b"]) == {}, "get_many of absent keys")


async def check_put_get_roundtrip(make_store: StoreFactory) -> None:
    store = await make_store()
    batch = Batch()
    values = {"empty": b"", "binary": bytes(range(256)), "gzip": b"\x1f\x8b\x08\x00",
              "utf8 key é/~": "données".encode()}
    for key, value in values.items():
        batch.put("payloads", key, value)
    await store.apply(batch)
    for key, value in values.items():
        got = await store.get("payloads", key)
        _expect(got == value and isinstance(got, bytes), f"roundtrip of {key!r} gave {got!r}")
    _expect(await store.get_many("payloads", ["binary", "absent", "empty"])
            == {"binary": values["binary"], "empty": b""}, "get_many leaves out absent keys")


async def check_collections_are_separate(make_store: StoreFactory) -> None:
    store = await make_store()
    batch = Batch()
    for collection in COLLECTIONS:
        batch.put(collection, "same", collection.encode())
    await store.apply(batch)
    for collection in COLLECTIONS:
        _expect(await store.get(collection, "same") == collection.encode(),
                f"{collection} shares keys with another collection")


async def check_keys_sorted_by_code_point(make_store: StoreFactory) -> None:
    store = await make_store()
    keys = ["b", "a", "B", "é", "a0", "1700000000000-000000002-x", "1700000000000-000000010-a",
            "z\u00ff", "z\u0100", "w3-hotel-guests"]
    batch = Batch()
    for key in keys:
        batch.put("versions", key, b"1")
    await store.apply(batch)
    _expect(await store.keys("versions") == sorted(keys), "keys are not sorted by code point")


async def check_keys_by_prefix(make_store: StoreFactory) -> None:
    store = await make_store()
    inside = ["head/", "head/a", "head/\uffff", "head/\uffff\uffffz", "head/\U0001f600"]
    outside = ["head", "hea", "headx", "head0", "index/a", "a"]
    batch = Batch()
    for key in inside + outside:
        batch.put("meta", key, b"1")
    await store.apply(batch)
    _expect(await store.keys("meta", "head/") == sorted(inside), "keys with a prefix")
    _expect(await store.keys("meta", "none/") == [], "keys with a prefix nothing has")
    _expect(await store.keys("meta") == sorted(inside + outside), "keys without a prefix")


async def check_digest(make_store: StoreFactory) -> None:
    store = await make_store()
    batch = Batch()
    value = "café, 東京 \U0001f600 ".encode() * 5000
    batch.put("head", "k", value)
    batch.put("head", "empty", b"")
    await store.apply(batch)
    _expect(await store.digest("head", "k") == hashlib.sha256(value).hexdigest(), "digest of a value")
    _expect(await store.digest("head", "empty") == hashlib.sha256(b"").hexdigest(), "digest of b''")
    _expect(await store.digest("head", "absent") is None, "digest of an absent key")
    _expect(await store.digest("blobs", "k") is None, "digest looks in another collection")


async def check_prefixed(make_store: StoreFactory) -> None:
    store = await make_store()
    batch = Batch()
    inside = {"head": b"1", "head/a": b"2", "head/\uffff": b"3", "headz": b"4", "head/\U0001f600": b"5"}
    for key, value in {**inside, "hea": b"x", "heae": b"y", "index/a": b"z", "h": b"w"}.items():
        batch.put("meta", key, value)
    batch.put("head", "head/b", b"other collection")
    await store.apply(batch)
    _expect(await store.prefixed("meta", "head") == inside, "values with a prefix")
    _expect(await store.prefixed("meta", "head/\uffff") == {"head/\uffff": b"3"},
            "values with a prefix ending in U+FFFF")
    _expect(await store.prefixed("meta", "none") == {}, "values with a prefix nothing has")
    _expect(len(await store.prefixed("meta", "")) == 9, "values without a prefix")


async def check_after(make_store: StoreFactory) -> None:
    store = await make_store()
    batch = Batch()
    values = {"a": b"1", "b": b"2", "b\x00": b"3", "ba": b"4", "\U0001f600": b"5", "\uffff": b"6"}
    for key, value in values.items():
        batch.put("versions", key, value)
    batch.put("payloads", "c", b"other collection")
    await store.apply(batch)
    _expect(await store.after("versions", "b") == {"b\x00": b"3", "ba": b"4", "\U0001f600": b"5",
                                                   "\uffff": b"6"}, "values after a key")
    _expect(await store.after("versions", "") == values, "values after the empty key")
    _expect(await store.after("versions", "\U0001f600") == {}, "values after the greatest key")
    _expect(await store.after("versions", "zz") == {"\U0001f600": b"5", "\uffff": b"6"},
            "values after a key not stored")


async def check_first_line(make_store: StoreFactory) -> None:
    store = await make_store()
    batch = Batch()
    batch.put("meta", "index/a", b'{"count":3}\n' + bytes(range(256)) * 100)
    batch.put("meta", "index/b", b"no newline at all")
    batch.put("meta", "index/c", b"\nfirst byte")
    await store.apply(batch)
    _expect(await store.first_line("meta", "index/a", 4096) == b'{"count":3}', "first line")
    _expect(await store.first_line("meta", "index/a", 5) == b'{"cou', "first line cut at the limit")
    _expect(await store.first_line("meta", "index/b", 4096) == b"no newline at all", "no newline")
    _expect(await store.first_line("meta", "index/c", 4096) == b"", "an empty first line")
    _expect(await store.first_line("meta", "absent", 4096) is None, "first line of an absent key")


async def check_overwrite_and_delete(make_store: StoreFactory) -> None:
    store = await make_store()
    first = Batch()
    first.put("head", "k", b"old")
    first.put("head", "gone", b"x")
    await store.apply(first)
    second = Batch()
    second.put("head", "k", b"new")
    second.delete("head", "gone")
    second.delete("head", "never-existed")
    await store.apply(second)
    _expect(await store.get("head", "k") == b"new", "put does not overwrite")
    _expect(await store.get("head", "gone") is None, "delete does not delete")
    _expect(await store.keys("head") == ["k"], "keys after delete")


async def check_deletes_apply_before_puts(make_store: StoreFactory) -> None:
    store = await make_store()
    batch = Batch()
    batch.put("meta", "k", b"kept")
    batch.delete("meta", "k")
    await store.apply(batch)
    _expect(await store.get("meta", "k") == b"kept", "a key both deleted and put must end up put")


async def check_apply_is_idempotent(make_store: StoreFactory) -> None:
    store = await make_store()
    batch = Batch()
    batch.put("blobs", "h", b"content")
    batch.delete("blobs", "other")
    await store.apply(batch)
    await store.apply(batch)
    _expect(await store.keys("blobs") == ["h"], "applying a batch twice changed the result")


async def check_empty_batch(make_store: StoreFactory) -> None:
    store = await make_store()
    await store.apply(Batch())
    _expect(await store.keys("meta") == [], "an empty batch wrote something")


async def check_large_value_and_many_keys(make_store: StoreFactory) -> None:
    store = await make_store()
    big = bytes(range(256)) * 8192  # 2 MiB
    batch = Batch()
    batch.put("blobs", "big", big)
    for index in range(1000):
        batch.put("versions", f"{index:05d}", str(index).encode())
    await store.apply(batch)
    _expect(await store.get("blobs", "big") == big, "large value roundtrip")
    keys = await store.keys("versions")
    _expect(len(keys) == 1000 and keys[0] == "00000" and keys[-1] == "00999", "many keys")
    many = await store.get_many("versions", keys[:500])
    _expect(len(many) == 500 and many["00499"] == b"499", "get_many of 500 keys")


async def check_unknown_collection_is_refused(make_store: StoreFactory) -> None:
    store = await make_store()
    batch = Batch()
    batch.put("payloads", "fine", b"1")
    batch.put("nonsense", "k", b"1")  # type: ignore[arg-type]
    try:
        await store.apply(batch)
    except StoreError:
        pass
    else:
        raise AssertionError("a batch naming an unknown collection was accepted")
    _expect(await store.get("payloads", "fine") is None, "a failed batch was partly written")


STORE_CHECKS: list[Callable[[StoreFactory], Awaitable[None]]] = [
    check_empty_store,
    check_put_get_roundtrip,
    check_collections_are_separate,
    check_keys_sorted_by_code_point,
    check_keys_by_prefix,
    check_digest,
    check_prefixed,
    check_after,
    check_first_line,
    check_overwrite_and_delete,
    check_deletes_apply_before_puts,
    check_apply_is_idempotent,
    check_empty_batch,
    check_large_value_and_many_keys,
    check_unknown_collection_is_refused,
]


async def check_store_contract(make_store: StoreFactory) -> dict[str, Any]:
    """Run every check; return ``{check name: "ok" or the error}``; raise if any failed."""
    results: dict[str, Any] = {}
    for check in STORE_CHECKS:
        try:
            await check(make_store)
            results[check.__name__] = "ok"
        except Exception as error:  # report every failing check, not just the first
            results[check.__name__] = f"{type(error).__name__}: {error}"
    failed = {name: outcome for name, outcome in results.items() if outcome != "ok"}
    if failed:
        raise AssertionError(f"store contract failed: {failed}")
    return results
