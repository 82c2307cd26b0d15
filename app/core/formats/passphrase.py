"""The hotel's encryption passphrase: the record that checks it (``meta/passphrase``), never the
passphrase itself (docs/FORMAT.md, "Encryption passphrase").

While a passphrase is set, every backup file is sealed (app.core.formats.backup's envelope) with
the key derived from it and the record's salt, so the file opens with the passphrase alone, on
any instance. The record holds that salt, the iteration count and a check value: the AES-256-GCM
sealing of ``CHECK_TEXT`` under the key, which tells a right passphrase from a wrong one (before
it is changed or removed) without keeping anything that reveals it. The cryptography is the
browser's (WebCrypto); this module only reads and writes the record and judges a new passphrase.
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
from dataclasses import dataclass

from app.core.errors import CoreError, CorruptData, UnknownFormatVersion
from app.core.formats.backup import IV_BYTES, KDF, MAX_ITERATIONS, MIN_ITERATIONS, SALT_BYTES
from app.core.formats.format import FORMAT_VERSION, check_format_version
from app.core.formats.json_value import Json, compact_json, parse_json

PASSPHRASE_KEY = "passphrase"
#: What the check value seals, and the additional data it is sealed with.
CHECK_TEXT = b"backstay-passphrase-check"
CHECK_AAD = b"backstay-passphrase-check/3"
#: The shortest passphrase accepted (in characters): it guards every file that leaves the hotel.
MIN_LENGTH = 12
#: The most characters accepted (a pasted document is a mistake, not a passphrase).
MAX_LENGTH = 1024
#: The GCM tag at the end of a check value.
TAG_BYTES = 16


class PassphraseError(CoreError):
    """A passphrase that cannot be set; the message says why and what to do."""


def check_new_passphrase(passphrase: Json) -> str:
    """``passphrase`` if it may become the hotel's; PassphraseError (saying why) if not."""
    if not isinstance(passphrase, str):
        raise PassphraseError("The passphrase is text")
    length = len(unicodedata.normalize("NFC", passphrase))
    if not passphrase.strip() or length < MIN_LENGTH:
        raise PassphraseError(f"The passphrase must have at least {MIN_LENGTH} characters (it guards "
                              "every backup file that leaves the hotel): a few unrelated words "
                              "make a good one")
    if length > MAX_LENGTH:
        raise PassphraseError(f"The passphrase may have at most {MAX_LENGTH} characters")
    if any(0xD800 <= ord(char) <= 0xDFFF for char in passphrase):
        raise PassphraseError("The passphrase holds a broken character (a lone surrogate); type it again")
    return passphrase


@dataclass(frozen=True)
class PassphraseRecord:
    """The non-secret half of the hotel's passphrase: salt, iterations and the check value."""

    salt: bytes
    iterations: int
    check_iv: bytes
    check: bytes
    set_at: int
    set_by: str

    @property
    def key_id(self) -> str:
        """Names the derived key where this browser keeps it (the salt, base64)."""
        return base64.b64encode(self.salt).decode("ascii")

    def encode(self) -> bytes:
        return compact_json({
            "formatVersion": FORMAT_VERSION, "kdf": KDF, "iterations": self.iterations,
            "salt": base64.b64encode(self.salt).decode("ascii"),
            "checkIv": base64.b64encode(self.check_iv).decode("ascii"),
            "check": base64.b64encode(self.check).decode("ascii"),
            "setAt": self.set_at, "setBy": self.set_by})

    @classmethod
    def decode(cls, data: bytes | None) -> PassphraseRecord | None:
        """The stored record, None when no passphrase is set; CorruptData for a damaged one."""
        if data is None:
            return None
        try:
            raw = parse_json(data)
            if not isinstance(raw, dict):
                raise ValueError("not an object")
            check_format_version(raw, "passphrase record")
            if raw.get("kdf") != KDF:
                raise ValueError(f"kdf is {raw.get('kdf')!r}, not {KDF}")
            iterations, set_at, set_by = raw.get("iterations"), raw.get("setAt"), raw.get("setBy")
            if type(iterations) is not int or not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
                raise ValueError(f"iterations is not from {MIN_ITERATIONS} to {MAX_ITERATIONS}")
            if not isinstance(set_at, int) or not isinstance(set_by, str):
                raise ValueError("setAt and setBy are a time and a login")
            salt, check_iv, check = (_bytes(raw.get(name)) for name in ("salt", "checkIv", "check"))
            if (len(salt), len(check_iv), len(check)) != (SALT_BYTES, IV_BYTES, len(CHECK_TEXT) + TAG_BYTES):
                raise ValueError("salt, checkIv or check has the wrong length")
        except UnknownFormatVersion:
            raise
        except (ValueError, TypeError, binascii.Error) as error:
            raise CorruptData(f"meta/{PASSPHRASE_KEY}: {error}") from None
        return cls(salt, iterations, check_iv, check, set_at, set_by)

    def summary(self) -> dict[str, Json]:
        return {"set": True, "setAt": self.set_at, "setBy": self.set_by, "iterations": self.iterations}


def _bytes(value: Json) -> bytes:
    if not isinstance(value, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(value, validate=True)
