"""Backup files: the data of one version, exported to take elsewhere (docs/FORMAT.md, "Backup files").

A backup file is UTF-8 JSON: a header (who exported it, when, from which version), then each
module's value as its canonical text (member order, raw numbers and lone surrogates kept), then
the module hashes and their state hash, so an import can tell a damaged or edited file from a
good one before it changes anything. It may be gzip'd, and it may be sealed with a passphrase:
then the file is an envelope (``Envelope``) whose ``data`` is the AES-256-GCM ciphertext of the
gzip'd backup, under a key derived from the passphrase by PBKDF2-SHA-256. The cryptography
itself is the browser's (WebCrypto); this module only reads and writes the layouts.
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar, cast

from app.core.errors import CoreError, UnknownFormatVersion
from app.core.formats.format import check_format_version
from app.core.formats.integrity import module_hash, state_hash
from app.core.formats.json_value import Json, canonical_text, compact_json, parse_json

BACKUP_FORMAT = "backstay-backup"
ENCRYPTED_FORMAT = "backstay-backup-encrypted"
#: The formats whose backup files this reader reads (a backup holds values, hashed by the rules
#: of formats 2 to 4; format 1 never wrote backup files). The last is the one written: format 4
#: changed only where a store keeps its head pointer, so backups are still written as format 3.
BACKUP_FORMAT_VERSIONS = (3,)
CIPHER = "AES-256-GCM"
KDF = "PBKDF2-SHA-256"
#: PBKDF2 iterations of a new envelope (OWASP's figure for PBKDF2-HMAC-SHA256).
ITERATIONS = 600_000
#: Fewer iterations than this are refused on import: a file that asks for them was not made here.
MIN_ITERATIONS = 100_000
#: More than this is refused too: a reader would take minutes (or forever) to derive the key.
MAX_ITERATIONS = 10_000_000
SALT_BYTES = 16
IV_BYTES = 12
#: Additional authenticated data of the cipher: binds the ciphertext to this layout.
AAD = b"backstay-backup-encrypted/3"
GZIP_MAGIC = b"\x1f\x8b"

T = TypeVar("T")
#: The latest createdAt a reader takes (9999-12-31, as JavaScript dates go).
LATEST_MS = 253_402_300_799_999


def sealing_text(passphrase: str) -> str:
    """What a key is derived from: the passphrase in Unicode NFC, so that the same words typed
    on another keyboard or system (which may compose accents differently) give the same key."""
    if any(0xD800 <= ord(char) <= 0xDFFF for char in passphrase):
        raise BackupError("The passphrase holds a broken character (a lone surrogate): type it again")
    return unicodedata.normalize("NFC", passphrase)


def opening_texts(passphrase: str) -> list[str]:
    """The texts to try when opening: NFC first, then as typed (a file sealed before
    passphrases were normalised)."""
    normal = sealing_text(passphrase)
    return [normal] if normal == passphrase else [normal, passphrase]


class BackupError(CoreError):
    """A file that is not a backup this reader can import; the message says what to do."""


@dataclass
class Backup:
    """The data of one version (or some of its modules), with where it came from."""

    modules: dict[str, Json]
    created_at: int
    created_by: str
    device: str = ""
    #: The version exported: {versionId, seq, timestamp, stateHash} (its stateHash covers all of
    #: that version's keys; the backup's own ``state_hash`` covers the modules it holds).
    source: dict[str, Json] = field(default_factory=dict)
    description: str = ""

    @property
    def module_hashes(self) -> dict[str, str]:
        return {key: module_hash(value) for key, value in self.modules.items()}

    @property
    def state_hash(self) -> str:
        return state_hash(self.module_hashes)

    def encode(self) -> bytes:
        """The file's bytes: one member per line, each module's value as its canonical text."""
        hashes = self.module_hashes
        header = {"format": BACKUP_FORMAT, "formatVersion": BACKUP_FORMAT_VERSIONS[-1],
                  "createdAt": self.created_at, "createdBy": self.created_by, "device": self.device,
                  "description": self.description, "source": cast(Json, dict(self.source))}
        lines = [compact_json(header)[:-1].decode("utf-8") + ","]
        lines.append('"modules":{')
        keys = sorted(self.modules)
        for index, key in enumerate(keys):
            comma = "," if index < len(keys) - 1 else ""
            lines.append(f"{compact_json(key).decode('utf-8')}:{canonical_text(self.modules[key])}{comma}")
        lines.append("},")
        lines.append(f'"moduleHashes":{compact_json(cast(Json, hashes)).decode("utf-8")},')
        lines.append(f'"stateHash":"{state_hash(hashes)}"}}')
        return ("\n".join(lines) + "\n").encode("utf-8")

    def summary(self) -> dict[str, Json]:
        """What an import shows of the file before anything is changed."""
        return {"createdAt": self.created_at, "createdBy": self.created_by, "device": self.device,
                "description": self.description, "source": cast(Json, dict(self.source)),
                "modules": cast(Json, sorted(self.modules)), "stateHash": self.state_hash}


def read_file(data: bytes) -> Backup | Envelope:
    """A backup file, or a sealed one's envelope (not gzip'd: ungzip first), told apart by its
    ``format``; BackupError says what is wrong with it."""
    try:
        obj = parse_json(data)
    except (ValueError, RecursionError) as error:
        raise BackupError(f"This file is not a Backstay backup: it is not JSON ({error})") from None
    if isinstance(obj, dict) and obj.get("format") == ENCRYPTED_FORMAT:
        return _envelope(obj)
    return _backup(obj)


def decode_backup(data: bytes) -> Backup:
    """Read a backup file (not gzip'd, not sealed); BackupError says what is wrong with it."""
    found = read_file(data)
    if isinstance(found, Envelope):
        raise BackupError("This backup is encrypted: enter the passphrase it was exported with")
    return found


def _backup(obj: Json) -> Backup:
    if not isinstance(obj, dict) or obj.get("format") != BACKUP_FORMAT:
        raise BackupError("This file is not a Backstay backup (it has no \"format\": "
                          f"\"{BACKUP_FORMAT}\"); choose a file made by Export backup")
    _check_version(obj, "backup")
    modules, hashes = obj.get("modules"), obj.get("moduleHashes")
    if not isinstance(modules, dict) or not isinstance(hashes, dict):
        raise BackupError("This backup is damaged: it lacks its modules or their hashes")
    if set(modules) != set(hashes):
        raise BackupError("This backup is damaged: its modules and their hashes do not match")
    for key, value in modules.items():
        if module_hash(value) != hashes[key]:
            raise BackupError(f"This backup is damaged or was edited: module {key!r} does not "
                              "match its hash. Nothing was imported; use another copy of the backup")
    if obj.get("stateHash") != state_hash(cast(Mapping[str, str], hashes)):
        raise BackupError("This backup is damaged or was edited: its stateHash does not match "
                          "its modules. Nothing was imported; use another copy of the backup")
    source = obj.get("source") or {}
    try:
        created_at = _typed(obj, "createdAt", int)
        if not 0 <= created_at <= LATEST_MS or not isinstance(source, dict):
            raise TypeError("createdAt or source is not what Backstay writes")
        return Backup(
            modules=dict(modules),
            created_at=created_at,
            created_by=_typed(obj, "createdBy", str)[:200],
            device=str(obj.get("device") or "")[:200],
            source=dict(source),
            description=str(obj.get("description") or "")[:500],
        )
    except (KeyError, TypeError) as error:
        raise BackupError(f"This backup is damaged: {error}") from None


@dataclass
class Envelope:
    """A backup sealed with a passphrase: AES-256-GCM of the gzip'd backup file, under
    PBKDF2-SHA-256(passphrase, salt, iterations), with additional data ``AAD``."""

    salt: bytes
    iv: bytes
    ciphertext: bytes
    iterations: int = ITERATIONS

    def encode(self) -> bytes:
        return compact_json({
            "format": ENCRYPTED_FORMAT, "formatVersion": BACKUP_FORMAT_VERSIONS[-1], "cipher": CIPHER,
            "kdf": KDF, "iterations": self.iterations, "salt": _b64(self.salt),
            "iv": _b64(self.iv), "compression": "gzip", "data": _b64(self.ciphertext),
        }) + b"\n"


def decode_envelope(data: bytes) -> Envelope:
    found = read_file(data)
    if not isinstance(found, Envelope):
        raise BackupError("This file is not an encrypted Backstay backup")
    return found


def _envelope(obj: dict[str, Json]) -> Envelope:
    _check_version(obj, "encrypted backup")
    if obj.get("cipher") != CIPHER or obj.get("kdf") != KDF or obj.get("compression") != "gzip":
        raise BackupError(f"This encrypted backup uses {obj.get('cipher')}/{obj.get('kdf')}, which "
                          f"this version cannot read (it reads {CIPHER} with {KDF})")
    iterations = obj.get("iterations")
    if type(iterations) is not int or not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise BackupError("This encrypted backup is damaged: its key derivation is not one "
                          "Backstay writes")
    salt, iv, ciphertext = (_unb64(obj.get(name), name) for name in ("salt", "iv", "data"))
    if len(salt) < SALT_BYTES or len(iv) != IV_BYTES or len(ciphertext) < 16:
        raise BackupError("This encrypted backup is damaged: its salt, IV or data is too short")
    return Envelope(salt, iv, ciphertext, iterations)


def _check_version(obj: Mapping[str, Json], what: str) -> None:
    found = obj.get("formatVersion")
    try:
        check_format_version(obj, what)
        if type(found) is int and found > BACKUP_FORMAT_VERSIONS[-1]:
            raise UnknownFormatVersion(f"{what}: formatVersion {found} is newer than this reader's")
    except UnknownFormatVersion:
        raise BackupError(f"This {what} has formatVersion {obj.get('formatVersion')!r}, which this "
                          "version of Backstay cannot read: update Backstay, then import it") from None
    if obj["formatVersion"] not in BACKUP_FORMAT_VERSIONS:
        raise BackupError(f"This {what} has formatVersion {obj['formatVersion']!r}; this version "
                          f"of Backstay reads backups of format {BACKUP_FORMAT_VERSIONS[-1]}")


def _typed(obj: Mapping[str, Json], name: str, kind: type[T]) -> T:
    value = obj[name]
    if type(value) is not kind:
        raise TypeError(f"{name} is not a {kind.__name__}")
    return value


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Json, name: str) -> bytes:
    if not isinstance(value, str):
        raise BackupError(f"This encrypted backup is damaged: {name} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BackupError(f"This encrypted backup is damaged: {name} is not base64") from None
