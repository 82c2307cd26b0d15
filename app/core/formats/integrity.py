"""Hashes that make the history checkable: module hash, state hash, chain link, content hash.

* module hash: format 2: per record (module_text.module_hash_of: for an array, SHA-256 over its
  elements' digests; else SHA-256 of the canonical text); format 1: SHA-256 of the value's
  sorted-key canonical JSON (json_value.canonical_json).
* state hash: SHA-256 over the sorted ``(key, module hash)`` pairs, so editing one module
  rehashes only that module's value.
* link: SHA-256 binding a version to its parent (ids and state hashes of both). Deleting a version
  rewrites only its child's link.
All hashes are lowercase hex.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from app.core.formats.format import FORMAT_VERSION
from app.core.formats.json_value import Json, canonical_bytes, canonical_json
from app.core.formats.module_text import module_hash_of

LINK_DOMAIN = b"backstay-link-v1"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def module_hash(value: Json, format_version: int = FORMAT_VERSION) -> str:
    if format_version == 1:
        return content_hash(canonical_json(value))
    return module_hash_of(value)


def blob_text(value: Json, format_version: int = FORMAT_VERSION) -> bytes:
    """What a checkpoint's blob holds for a module: its canonical text (format 2, member order
    kept), or its sorted-key canonical JSON (format 1)."""
    return canonical_json(value) if format_version == 1 else canonical_bytes(value)


def state_hash(module_hashes: Mapping[str, str]) -> str:
    """SHA-256 of ``key NUL module-hash LF`` for each key in code-point order (UTF-8)."""
    digest = hashlib.sha256()
    for key in sorted(module_hashes):
        digest.update(key.encode("utf-8") + b"\0" + module_hashes[key].encode("ascii") + b"\n")
    return digest.hexdigest()


def link(
    parent_id: str | None, parent_state_hash: str | None, version_id: str, version_state_hash: str
) -> str:
    """The chain link of a version: binds it to its parent (or to nothing, for the oldest)."""
    parts = [LINK_DOMAIN, (parent_id or "").encode("utf-8"), (parent_state_hash or "").encode(),
             version_id.encode("utf-8"), version_state_hash.encode()]
    return hashlib.sha256(b"\n".join(parts)).hexdigest()
