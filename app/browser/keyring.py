"""Keyring: where this browser keeps the key of the hotel's encryption passphrase.

A non-extractable CryptoKey in IndexedDB (static/backstay/keyring.mjs): backups are sealed with
it without asking for the passphrase each time, and the page can use the key but never read it.
"""

from __future__ import annotations

from typing import Any

from app.browser.ffi import JsException
from app.core.ports import StoreError


class Keyring:
    def __init__(self, module: Any) -> None:
        self._module = module  # static/backstay/keyring.mjs

    async def get(self, key_id: str) -> Any | None:
        """The CryptoKey named ``key_id``, or None."""
        try:
            return await self._module.get(key_id)
        except JsException as error:
            raise StoreError(f"the key of the encryption passphrase could not be read ({error})") from None

    async def put(self, key_id: str, key: Any) -> None:
        """Keep ``key`` beside the others (until ``keep_only``)."""
        try:
            await self._module.put(key_id, key)
        except JsException as error:
            raise StoreError(f"the key of the encryption passphrase could not be kept ({error})") from None

    async def keep_only(self, key_id: str) -> None:
        """Drop every key but ``key_id``'s."""
        try:
            await self._module.keepOnly(key_id)
        except JsException as error:
            raise StoreError(f"the old key of the encryption passphrase could not be dropped "
                             f"({error})") from None

    async def clear(self) -> None:
        try:
            await self._module.clear()
        except JsException as error:
            raise StoreError(f"the key of the encryption passphrase could not be dropped ({error})") from None
