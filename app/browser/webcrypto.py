"""Sealing backups with a passphrase: WebCrypto's PBKDF2-SHA-256 and AES-256-GCM.

The layout is app.core.formats.backup.Envelope; this module only runs the browser's cipher.
A wrong passphrase and a changed file fail alike (GCM's tag does not match): the message says so.
"""

from __future__ import annotations

from typing import Any

import js  # type: ignore[import-not-found]

from app.browser.ffi import JsException, error_name, js_bytes, js_value, py_bytes
from app.core.formats.backup import AAD, ITERATIONS, IV_BYTES, SALT_BYTES, BackupError, Envelope


def _random(size: int) -> bytes:
    return py_bytes(js.crypto.getRandomValues(js.Uint8Array.new(size)))


async def _key(passphrase: str, salt: bytes, iterations: int) -> Any:
    subtle = js.crypto.subtle
    material = await subtle.importKey("raw", js.TextEncoder.new().encode(passphrase), "PBKDF2",
                                      False, js_value(["deriveKey"]))
    return await subtle.deriveKey(
        js_value({"name": "PBKDF2", "salt": js_bytes(salt), "iterations": iterations,
                  "hash": "SHA-256"}),
        material, js_value({"name": "AES-GCM", "length": 256}), False,
        js_value(["encrypt", "decrypt"]))


async def seal(plaintext: bytes, passphrase: str) -> Envelope:
    """Encrypt ``plaintext`` (the gzip'd backup file) under ``passphrase``."""
    if not passphrase:
        raise BackupError("An encrypted backup needs a passphrase")
    salt, iv = _random(SALT_BYTES), _random(IV_BYTES)
    key = await _key(passphrase, salt, ITERATIONS)
    sealed = await js.crypto.subtle.encrypt(
        js_value({"name": "AES-GCM", "iv": js_bytes(iv), "additionalData": js_bytes(AAD)}),
        key, js_bytes(plaintext))
    return Envelope(salt, iv, py_bytes(sealed), ITERATIONS)


async def open_sealed(envelope: Envelope, passphrase: str) -> bytes:
    """The plaintext of ``envelope``; BackupError for a wrong passphrase or a changed file."""
    if not passphrase:
        raise BackupError("This backup is encrypted: enter the passphrase it was exported with")
    key = await _key(passphrase, envelope.salt, envelope.iterations)
    try:
        plain = await js.crypto.subtle.decrypt(
            js_value({"name": "AES-GCM", "iv": js_bytes(envelope.iv), "additionalData": js_bytes(AAD)}),
            key, js_bytes(envelope.ciphertext))
    except JsException as error:
        if error_name(error) == "OperationError":
            raise BackupError("The passphrase is wrong, or the encrypted file was changed: nothing "
                              "was imported. Enter the passphrase the backup was exported with") from None
        raise
    return py_bytes(plain)
