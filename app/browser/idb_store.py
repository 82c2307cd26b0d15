"""IdbStore: the VersionStore port backed by IndexedDB (database "backstay", one object store
per collection). Each method is one IndexedDB transaction, done by static/backstay/idb.mjs."""

from __future__ import annotations

from typing import Any

from app.browser.ffi import JsException, error_name, js_bytes, js_value, py_bytes
from app.core.ports import COLLECTIONS, Batch, Collection, DataLost, StoreError, StoreFull

DB_NAME = "backstay"
DB_VERSION = 1


class StorageClosed(StoreError):
    """The database was deleted or closed under us (another context deleted it): open it again."""


def translate(error: JsException, doing: str) -> StoreError:
    name = error_name(error)
    text = str(error)
    if name == "QuotaExceededError" or (name in ("DataError", "UnknownError") and (
            "IOError" in text or "NO_SPACE" in text)):
        # Out of quota, or the disk itself is full (Chromium: "Failed to write blobs (IOError)";
        # a value written to the database's log: "IO error: …: FILE_ERROR_NO_SPACE", and the
        # browser closes the connection: the next use opens it again, StorageClosed).
        return StoreFull(f"the browser's storage is full while {doing}; nothing was written")
    if name == "InvalidStateError":
        return StorageClosed(f"the database was closed while {doing}")
    if name == "NotReadableError" or "Data lost" in text:
        # Chromium: "Data lost due to missing file. Affected record should be considered
        # irrecoverable." (a file of the database was deleted or damaged on disk).
        return DataLost(f"a value was lost from the disk (its file is gone or damaged) while {doing}")
    return StoreError(f"IndexedDB failed while {doing}: {error}")


class IdbStore:
    def __init__(self, idb: Any, db: Any) -> None:
        self._idb = idb
        self._db = db
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether the browser closed this connection (a disk that is full or failing, the
        site's data cleared, the database deleted): every use of it fails, open another."""
        return self._closed or bool(self._idb.isClosed(self._db))

    def _failed(self, error: JsException, doing: str) -> StoreError:
        found = translate(error, doing)
        if isinstance(found, StorageClosed) or "Connection is closing" in str(error):
            self._closed = True
        return found

    @classmethod
    async def open(cls, idb: Any, name: str = DB_NAME) -> IdbStore:
        try:
            db = await idb.open(name, DB_VERSION, js_value(list(COLLECTIONS)))
        except JsException as error:
            raise translate(error, f"opening database {name}") from None
        return cls(idb, db)

    def close(self) -> None:
        """Close the connection (a new IdbStore.open makes another)."""
        self._closed = True
        self._db.close()

    async def get(self, collection: Collection, key: str) -> bytes | None:
        try:
            value = await self._idb.get(self._db, collection, key)
        except JsException as error:
            raise self._failed(error, f"reading {collection}/{key}") from None
        return None if value is None else py_bytes(value)

    async def get_many(self, collection: Collection, keys: list[str]) -> dict[str, bytes]:
        if not keys:
            return {}
        try:
            found = await self._idb.getMany(self._db, collection, js_value(keys))
        except JsException as error:
            raise self._failed(error, f"reading {len(keys)} values of {collection}") from None
        return {str(pair[0]): py_bytes(pair[1]) for pair in found}

    async def keys(self, collection: Collection, prefix: str = "") -> list[str]:
        try:
            found = await self._idb.keys(self._db, collection, prefix)
        except JsException as error:
            raise self._failed(error, f"listing {collection}") from None
        return sorted(str(key) for key in found)

    async def prefixed(self, collection: Collection, prefix: str) -> dict[str, bytes]:
        try:
            found = await self._idb.prefixed(self._db, collection, prefix)
        except JsException as error:
            raise self._failed(error, f"reading {collection}/{prefix}*") from None
        return {str(pair[0]): py_bytes(pair[1]) for pair in found}

    async def after(self, collection: Collection, key: str) -> dict[str, bytes]:
        # IndexedDB orders keys by UTF-16 code unit: past U+D7FF that is not code-point order,
        # so such a key is compared here, over every key.
        bound = key if all(char < "\ud800" for char in key) else ""
        try:
            found = await self._idb.after(self._db, collection, bound)
        except JsException as error:
            raise self._failed(error, f"reading {collection} after {key}") from None
        return {str(pair[0]): py_bytes(pair[1]) for pair in found if str(pair[0]) > key}

    async def first_line(self, collection: Collection, key: str, limit: int) -> bytes | None:
        try:
            value = await self._idb.firstLine(self._db, collection, key, limit)
        except JsException as error:
            raise self._failed(error, f"reading {collection}/{key}") from None
        return None if value is None else py_bytes(value)

    async def digest(self, collection: Collection, key: str) -> str | None:
        try:
            found = await self._idb.digest(self._db, collection, key)
        except JsException as error:
            raise self._failed(error, f"hashing {collection}/{key}") from None
        return None if found is None else str(found)

    async def live_matches_head(
        self, url: str, key: str, timeout_ms: int, expect: tuple[str, int] | None = None
    ) -> str:
        """Whether the live store's bytes at ``url`` are those of ``head/<key>`` ("same <their
        SHA-256 hex> <their length>", "differs", "absent", "http <status>" or "unreachable:
        <why>"), compared without copying either into Python. ``expect``: (SHA-256 hex, length)
        of ``head/<key>`` when known; a store that answers that it still holds those bytes
        sends nothing ("same <hex> <length> not-modified")."""
        wanted = None if expect is None else f"{expect[0]} {expect[1]}"
        try:
            return str(await self._idb.liveMatchesHead(self._db, url, key, timeout_ms, wanted))
        except JsException as error:
            raise self._failed(error, f"reading head/{key}") from None

    async def apply(self, batch: Batch) -> None:
        if not batch:
            return
        puts = js_value([[collection, key, None] for collection, key, _ in batch.puts])
        for index, (_, _, value) in enumerate(batch.puts):
            puts[index][2] = js_bytes(value)
        deletes = js_value([list(item) for item in batch.deletes])
        try:
            await self._idb.apply(self._db, puts, deletes)
        except JsException as error:
            raise self._failed(error, f"writing {len(batch.puts)} values") from None
