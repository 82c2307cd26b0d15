"""The capture journal (IndexedDB database "backstay-journal", written by static/capture.js).

The engine reads entries in sequence order and drops them once their versions are committed.
"""

from __future__ import annotations

from typing import Any

from app.browser.ffi import JsException, js_value, py_value
from app.core.journal_entry import JournalEntry
from app.core.ports import StoreError

DB_NAME = "backstay-journal"
DB_VERSION = 1
STORE = "entries"


class Journal:
    def __init__(self, idb: Any, db: Any) -> None:
        self._idb = idb
        self._db = db

    @classmethod
    async def open(cls, idb: Any) -> Journal:
        try:
            db = await idb.open(DB_NAME, DB_VERSION, js_value([STORE]), js_value({"autoIncrement": True}))
        except JsException as error:
            raise StoreError(f"could not open the capture journal: {error}") from None
        return cls(idb, db)

    async def after(self, seq: int, limit: int = 100) -> list[JournalEntry]:
        """Entries with a sequence number greater than ``seq``, oldest first."""
        try:
            raw = await self._idb.journalAfter(self._db, STORE, seq, limit)
        except JsException as error:
            raise StoreError(f"could not read the capture journal: {error}") from None
        return [JournalEntry.from_dict(item) for item in py_value(raw)]

    async def drop_through(self, seq: int) -> None:
        """Delete every entry up to and including ``seq`` (they are in committed versions)."""
        try:
            await self._idb.journalDropThrough(self._db, STORE, seq)
        except JsException as error:
            raise StoreError(f"could not trim the capture journal: {error}") from None
