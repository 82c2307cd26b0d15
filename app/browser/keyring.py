"""Keyring: where this browser keeps the key of the hotel's encryption passphrase.

A non-extractable CryptoKey in IndexedDB (static/backstay/keyring.mjs), beside the record that
checks its passphrase: backups are sealed with it without asking for the passphrase each time,
the page can use the key but never read it, and the record outlives a reset of Backstay's store.
"""

from __future__ import annotations

from typing import Any

from app.browser.ffi import JsException
from app.browser.idb_store import translate


class Keyring:
    def __init__(self, module: Any) -> None:
        self._module = module  # static/backstay/keyring.mjs

    async def key(self, key_id: str) -> Any | None:
        """The CryptoKey named ``key_id``, or None."""
        try:
            entry = await self._module.get(key_id)
        except JsException as error:
            raise translate(error, "reading the key of the encryption passphrase") from None
        return None if entry is None else entry.key

    async def records(self) -> list[bytes]:
        """The records kept beside the keys (normally one; two only after an interrupted change)."""
        try:
            found = await self._module.entries()
        except JsException as error:
            raise translate(error, "reading the keys of the encryption passphrase") from None
        return [str(pair[1].record).encode("utf-8") for pair in found]

    async def put(self, key_id: str, key: Any, record: bytes) -> None:
        """Keep ``key`` and its ``record`` beside the others (until ``keep_only``)."""
        try:
            await self._module.put(key_id, key, record.decode("utf-8"))
        except JsException as error:
            raise translate(error, "keeping the key of the encryption passphrase") from None

    async def keep_only(self, key_id: str) -> None:
        """Drop every key but ``key_id``'s."""
        try:
            await self._module.keepOnly(key_id)
        except JsException as error:
            raise translate(error, "dropping the old key of the encryption passphrase") from None

    async def clear(self) -> None:
        try:
            await self._module.clear()
        except JsException as error:
            raise translate(error, "dropping the key of the encryption passphrase") from None
