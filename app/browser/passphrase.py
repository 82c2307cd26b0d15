"""The hotel's encryption passphrase: set, change or remove it; the key that seals backups.

While one is set, every backup exported from this browser is sealed with it (AES-256-GCM, the
key from PBKDF2 of the passphrase and the record's salt), even when the person exporting does
not know it: the file opens with the passphrase on any instance, and here without it. Setting,
changing and removing it need the ``passphrase`` permission; changing and removing it also need
the current one. The passphrase itself is never stored, sent to the server or audited: the store
keeps the record that checks it (app.core.formats.passphrase), and this browser the derived key
beside a copy of that record (app/browser/keyring.py), which the page can use but not read. If
the store loses the record, the keyring's copy still applies: exports stay sealed (fail closed).
Only the draining engine writes the record.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from app.browser.engine import Engine
from app.browser.keyring import Keyring
from app.browser.problems import ApiError
from app.browser.webcrypto import decrypt, derive_key, encrypt, new_salt
from app.core.chain import Chain
from app.core.errors import CorruptData, UnknownFormatVersion
from app.core.formats.backup import ITERATIONS, BackupError, Envelope, opening_texts, sealing_text
from app.core.formats.json_value import Json, compact_json, parse_json
from app.core.formats.passphrase import (
    CHECK_AAD,
    CHECK_TEXT,
    PASSPHRASE_KEY,
    PassphraseError,
    PassphraseRecord,
    check_new_passphrase,
)
from app.core.ports import Batch, StoreError, StoreFull

Allowed = Callable[[str, str], Awaitable[Chain]]


def _now_ms() -> int:
    return int(time.time() * 1000)


class Passphrase:
    def __init__(self, engine: Engine, allowed: Allowed, keyring: Keyring) -> None:
        self._engine = engine
        self._allowed = allowed
        self._keyring = keyring

    async def status(self) -> str:
        """{set, setAt?, setBy?, iterations?, usable}: usable when this browser holds its key."""
        chain = await self._allowed("view", "read-passphrase")
        record = await self._record(chain)
        if record is None:
            return _text({"set": False, "usable": False})
        usable = await self._keyring.key(record.key_id) is not None
        return _text({**record.summary(), "usable": usable})

    async def set(self, options_text: str) -> str:
        """{passphrase, current?}: set it (``current`` when one is set already); ``passphrase:
        null`` removes it. Audited, never with either passphrase."""
        chain = await self._allowed("passphrase", "passphrase")
        if not self._engine.drainer:  # one writer of the record: the draining engine
            return await self._engine.ask_drainer("passphrase", [options_text])
        async with self._engine.settings_lock:
            return await self._set(chain, options_text)

    async def _set(self, chain: Chain, options_text: str) -> str:
        try:
            options = parse_json(options_text or "null")
        except ValueError:
            options = None
        if not isinstance(options, dict) or set(options) - {"passphrase", "current"} or \
                "passphrase" not in options:
            raise ApiError("setPassphrase takes {passphrase, current?}: passphrase null removes it")
        try:
            record, damaged = await self._record(chain, damaged_ok=True), False
        except _Damaged:  # nothing can check the current one: a new one replaces it
            record, damaged = None, True
        new, current = options.get("passphrase"), options.get("current")
        doing = "remove" if new is None else "change" if record else "replace-damaged" if damaged else "set"
        try:
            if record is not None:
                if not isinstance(current, str) or not current:
                    raise PassphraseError("A passphrase is set: enter the current one to change or "
                                          "remove it")
                if not await _right(record, current):
                    raise PassphraseError("The current passphrase is wrong: nothing was changed")
            elif new is None and not damaged:
                raise PassphraseError("No passphrase is set: there is nothing to remove")
            if new is not None:
                check_new_passphrase(new)
        except (PassphraseError, BackupError) as error:
            await self._engine.auditor.audit_action("passphrase", "failed", str(error), {"doing": doing})
            raise ApiError(str(error)) from None
        try:
            if new is None:
                answer = await self._remove(chain)
                message = ("Removed the encryption passphrase: backup files are no longer encrypted "
                           "unless a passphrase is given")
            else:
                answer = await self._write(chain, str(new))
                message = ("Changed the encryption passphrase" if record else
                           "Set the encryption passphrase") + ": every backup file is now encrypted with it"
        except StoreError as error:
            message = (("This browser's storage is full" if isinstance(error, StoreFull) else
                        f"This browser's storage failed ({error})")
                       + ", so the passphrase was not changed: free space and try again")
            await self._engine.auditor.audit_action("passphrase", "failed", message, {"doing": doing})
            raise ApiError(message) from None
        await self._engine.auditor.audit_action("passphrase", "done", message, {"doing": doing})
        return _text(answer)

    async def _write(self, chain: Chain, passphrase: str) -> dict[str, Json]:
        salt = new_salt()
        key = await derive_key(sealing_text(passphrase), salt, ITERATIONS)
        check_iv, check = await encrypt(key, CHECK_TEXT, CHECK_AAD)
        record = PassphraseRecord(salt, ITERATIONS, check_iv, check, _now_ms(), self._engine.user)
        # The new key beside the old one until the record names it: each step leaves a usable key.
        await self._keyring.put(record.key_id, key, record.encode())
        batch = Batch()
        batch.put("meta", PASSPHRASE_KEY, record.encode())
        await chain.store.apply(batch)
        with contextlib.suppress(StoreError):  # an old key left behind is dropped next time
            await self._keyring.keep_only(record.key_id)
        return {**record.summary(), "usable": True}

    async def _remove(self, chain: Chain) -> dict[str, Json]:
        # The key first: interrupted after it, the record still says a passphrase is set and
        # exports are refused (not written in the clear) until the removal is done again.
        await self._keyring.clear()
        batch = Batch()
        batch.delete("meta", PASSPHRASE_KEY)
        await chain.store.apply(batch)
        return {"set": False, "usable": False}

    async def _record(self, chain: Chain, *, damaged_ok: bool = False) -> PassphraseRecord | None:
        """The record in the store; if the store has none (it was reset), the copy this browser
        kept beside the key. None when no passphrase is set."""
        stored = await chain.store.get("meta", PASSPHRASE_KEY)
        try:
            record = PassphraseRecord.decode(stored)
        except UnknownFormatVersion as error:
            raise ApiError(f"The encryption passphrase was set by a newer Backstay ({error}): use "
                           "that version to change it") from None
        except CorruptData as error:
            if damaged_ok:
                raise _Damaged() from None
            raise ApiError(f"The record of the encryption passphrase is damaged ({error}): set it "
                           "again (Backup files → Encryption passphrase)") from None
        if record is not None or stored is not None:
            return record
        kept = []
        for text in await self._keyring.records():
            with contextlib.suppress(CorruptData, UnknownFormatVersion):
                if (found := PassphraseRecord.decode(text)) is not None:
                    kept.append(found)
        return max(kept, key=lambda found: found.set_at) if kept else None

    # ---- for backup files (app/browser/backups.py) ------------------------------------------

    async def sealing_key(self, chain: Chain, typed: str | None) -> tuple[Any, PassphraseRecord] | None:
        """The key a backup is sealed with while the hotel's passphrase is set, and its record;
        None when none is set. ``typed``: a passphrase given at export, which must be that one."""
        record = await self._record(chain)
        if record is None:
            return None
        if typed:
            if not await _right(record, typed):
                raise ApiError("This browser encrypts every backup with the hotel's passphrase, and "
                               "the passphrase given is not it: leave the passphrase empty (the "
                               "file is encrypted with the hotel's), or give the hotel's")
            key = await derive_key(sealing_text(typed), record.salt, record.iterations)
            if await self._keyring.key(record.key_id) is None:  # kept again: usable from now on
                with contextlib.suppress(StoreError):
                    await self._keyring.put(record.key_id, key, record.encode())
            return key, record
        key = await self._keyring.key(record.key_id)
        if key is None:
            raise ApiError("An encryption passphrase is set, but this browser no longer holds its "
                           "key: give the hotel's passphrase when you export (it is kept again), "
                           "or set a new one (Backup files → Encryption passphrase)")
        return key, record

    async def opening_key(self, chain: Chain, envelope: Envelope) -> Any | None:
        """The hotel's key, if ``envelope`` was sealed with it (same salt and iterations)."""
        record = await self._record(chain)
        if record is None or (record.salt, record.iterations) != (envelope.salt, envelope.iterations):
            return None
        return await self._keyring.key(record.key_id)


class _Damaged(Exception):
    """The stored record cannot be read."""


async def _right(record: PassphraseRecord, passphrase: str) -> bool:
    """Does ``passphrase`` open the record's check value?"""
    for text in opening_texts(passphrase):
        key = await derive_key(text, record.salt, record.iterations)
        if await decrypt(key, record.check_iv, record.check, CHECK_AAD) == CHECK_TEXT:
            return True
    return False


def _text(value: dict[str, Json]) -> str:
    return compact_json(value).decode("utf-8")
