"""The capture journal (IndexedDB database "backstay-journal", written by static/capture.js).

The engine reads entries in sequence order (with their outcomes, without their bodies, but for
the first entry's when it is small and that write was answered ok: the next step records it),
reads any other body only when it records it, and drops entries once their versions are
committed.
"""

from __future__ import annotations

from typing import Any

from app.browser.ffi import JsException, error_name, py_bytes, py_value
from app.core.capture.journal_entry import JournalEntry
from app.core.ports import StoreError


class JournalClosed(StoreError):
    """The journal database was deleted or closed under the engine; open it again."""


class BodyUnreadable(StoreError):
    """A write's body is in the journal but cannot be read, now or ever (the file that holds
    it is gone or damaged)."""


def _translate(error: JsException, doing: str) -> StoreError:
    name = error_name(error)
    if name == "InvalidStateError":
        return JournalClosed(f"the capture journal was closed while {doing}")
    return StoreError(f"could not {doing} the capture journal: {error}")


class Journal:
    def __init__(self, idb: Any, db: Any) -> None:
        self._idb = idb
        self._db = db

    @classmethod
    async def open(cls, idb: Any) -> Journal:
        try:
            db = await idb.openJournal()
        except JsException as error:
            raise _translate(error, "open") from None
        return cls(idb, db)

    def close(self) -> None:
        """Close the connection (a new Journal.open makes another)."""
        self._db.close()

    async def read(self, seq: int, limit: int = 1000,
                   body_limit: int = 0) -> tuple[str, list[JournalEntry], str | None]:
        """The journal's epoch (the random id made when its database was created) and the
        entries ``after`` gives, read together (one transaction); and the body of the first
        entry (as ``body`` gives it) when that entry is a write answered "ok" whose body is at
        most ``body_limit`` bytes, else None."""
        try:
            epoch, raw, body = await self._idb.journalRead(self._db, seq, limit, body_limit)
        except JsException as error:
            raise _translate(error, "read") from None
        # A JavaScript null in an array arrives as a falsy JsNull, not None (an empty body too is
        # falsy here: the drain then reads it on its own).
        text = py_bytes(body).decode("utf-8", errors="replace") if body else None
        return str(epoch), [JournalEntry.from_dict(item) for item in py_value(raw)], text

    async def after(self, seq: int, limit: int = 1000) -> list[JournalEntry]:
        """Entries with a sequence number greater than ``seq``, oldest first, without bodies."""
        try:
            raw = await self._idb.journalAfter(self._db, seq, limit)
        except JsException as error:
            raise _translate(error, "read") from None
        return [JournalEntry.from_dict(item) for item in py_value(raw)]

    async def body(self, seq: int) -> str | None:
        """The body of entry ``seq`` (the JSON text sent), or None when none was kept."""
        try:
            data = await self._idb.journalBody(self._db, seq)
        except JsException as error:
            if error_name(error) == "BodyUnreadableError":
                raise BodyUnreadable(str(getattr(error, "message", "") or error)) from None
            raise _translate(error, "read a body from") from None
        if data is None:
            return None
        return py_bytes(data).decode("utf-8", errors="replace")

    async def drop_through(self, seq: int) -> None:
        """Delete every entry up to and including ``seq`` (they are in committed versions)."""
        try:
            await self._idb.journalDropThrough(self._db, seq)
        except JsException as error:
            raise _translate(error, "trim") from None

    async def live_tabs(self) -> set[str]:
        """The ids of the tabs that are still open."""
        try:
            return {str(tab) for tab in py_value(await self._idb.liveTabs())}
        except JsException:
            return set()  # no Web Locks: every tab counts as closed once its grace is over
