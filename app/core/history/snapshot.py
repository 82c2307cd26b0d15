"""Snapshot blobs: one module's value in canonical text, stored under its module hash.

A checkpoint's ``snapshot`` maps every KV key to a module hash; ``blobs/<module hash>`` holds
that module's canonical JSON, framed by framing.pack. Blobs are content-addressed: a checkpoint
writes only the blobs not already stored, and a blob is deleted with the last checkpoint that
references it.
"""

from __future__ import annotations

from app.core.errors import CorruptData
from app.core.formats.framing import pack, unpack
from app.core.formats.integrity import content_hash, module_hash
from app.core.formats.json_value import Json, parse_json
from app.core.ports import Compressor


def encode_blob(canonical: bytes, compressor: Compressor) -> bytes:
    return pack(canonical, compressor)


def decode_blob(
    stored: bytes, compressor: Compressor, expected_hash: str, format_version: int
) -> Json:
    """The module value of a blob written in ``format_version``; raises CorruptData when it
    does not hash to its key."""
    canonical = unpack(stored, compressor)
    if format_version == 1 and content_hash(canonical) != expected_hash:
        raise CorruptData(f"blob {expected_hash} does not match its hash")
    try:
        value = parse_json(canonical, format_version=format_version)
    except (ValueError, UnicodeDecodeError) as error:
        raise CorruptData(f"blob {expected_hash} is not JSON: {error}") from None
    if format_version != 1 and module_hash(value, format_version) != expected_hash:
        raise CorruptData(f"blob {expected_hash} does not match its hash")
    return value
