"""Sealing backups with a passphrase: WebCrypto's PBKDF2-SHA-256 and AES-256-GCM.

The layout is app.core.formats.backup.Envelope; this module only runs the browser's cipher.
A wrong passphrase and a changed file fail alike (GCM's tag does not match): the message says so.
"""

from __future__ import annotations

from typing import Any

import js  # type: ignore[import-not-found]

from app.browser.ffi import JsException, error_name, js_bytes, js_value, py_bytes
from app.core.formats.backup import (
    AAD,
    ITERATIONS,
    IV_BYTES,
    SALT_BYTES,
    BackupError,
    Envelope,
    opening_texts,
    sealing_text,
)


def _random(size: int) -> bytes:
    return py_bytes(js.crypto.getRandomValues(js.Uint8Array.new(size)))


def new_salt() -> bytes:
    return _random(SALT_BYTES)


async def derive_key(passphrase: str, salt: bytes, iterations: int = ITERATIONS) -> Any:
    """The AES-256-GCM key of ``passphrase`` (PBKDF2-SHA-256): a non-extractable CryptoKey,
    usable for encrypting and decrypting but never readable, not even by this page."""
    subtle = js.crypto.subtle
    material = await subtle.importKey("raw", js_bytes(passphrase.encode("utf-8")), "PBKDF2",
                                      False, js_value(["deriveKey"]))
    return await subtle.deriveKey(
        js_value({"name": "PBKDF2", "salt": js_bytes(salt), "iterations": iterations,
                  "hash": "SHA-256"}),
        material, js_value({"name": "AES-GCM", "length": 256}), False,
        js_value(["encrypt", "decrypt"]))


async def encrypt(key: Any, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """(iv, ciphertext with its tag) of ``plaintext`` under ``key``, a fresh random IV."""
    iv = _random(IV_BYTES)
    sealed = await js.crypto.subtle.encrypt(
        js_value({"name": "AES-GCM", "iv": js_bytes(iv), "additionalData": js_bytes(aad)}),
        key, js_bytes(plaintext))
    return iv, py_bytes(sealed)


async def decrypt(key: Any, iv: bytes, ciphertext: bytes, aad: bytes) -> bytes | None:
    """The plaintext; None when the tag does not match (a wrong key, or changed bytes)."""
    try:
        plain = await js.crypto.subtle.decrypt(
            js_value({"name": "AES-GCM", "iv": js_bytes(iv), "additionalData": js_bytes(aad)}),
            key, js_bytes(ciphertext))
    except JsException as error:
        if error_name(error) == "OperationError":
            return None
        raise
    return py_bytes(plain)


async def seal_with(plaintext: bytes, key: Any, salt: bytes, iterations: int) -> Envelope:
    """Encrypt ``plaintext`` (the gzip'd backup file) under ``key``, derived with ``salt``."""
    iv, sealed = await encrypt(key, plaintext, AAD)
    return Envelope(salt, iv, sealed, iterations)


async def seal(plaintext: bytes, passphrase: str) -> Envelope:
    """Encrypt ``plaintext`` (the gzip'd backup file) under ``passphrase``."""
    if not passphrase:
        raise BackupError("An encrypted backup needs a passphrase")
    salt = new_salt()
    key = await derive_key(sealing_text(passphrase), salt, ITERATIONS)
    return await seal_with(plaintext, key, salt, ITERATIONS)


WRONG_PASSPHRASE = ("The passphrase is wrong, or the encrypted file was changed: nothing was "
                    "imported. Enter the passphrase the backup was exported with")


async def open_with(envelope: Envelope, key: Any) -> bytes:
    """The plaintext of ``envelope`` under ``key``; BackupError when it does not open."""
    plain = await decrypt(key, envelope.iv, envelope.ciphertext, AAD)
    if plain is None:
        raise BackupError(WRONG_PASSPHRASE)
    return plain


async def open_sealed(envelope: Envelope, passphrase: str) -> bytes:
    """The plaintext of ``envelope``; BackupError for a wrong passphrase or a changed file."""
    if not passphrase:
        raise BackupError("This backup is encrypted: enter the passphrase it was exported with")
    for text in opening_texts(passphrase):
        plain = await decrypt(await derive_key(text, envelope.salt, envelope.iterations),
                              envelope.iv, envelope.ciphertext, AAD)
        if plain is not None:
            return plain
    raise BackupError(WRONG_PASSPHRASE)
