"""The format version every stored object carries, and the check every reader makes."""

from __future__ import annotations

from collections.abc import Mapping

from app.core.errors import UnknownFormatVersion

#: The version of the storage format described by docs/FORMAT.md.
FORMAT_VERSION = 4
#: Older objects stay readable: a store written in format 1 is upgraded in place (its history
#: stays in format 1, a format-2 checkpoint follows it); one written in format 2 or 3 has only
#: its head pointer rewritten (formats 3 and 4 changed nothing else).
KNOWN_FORMAT_VERSIONS = frozenset({1, 2, 3, 4})


def hash_rules(format_version: int) -> int:
    """The rules a format's values are read, spelled and hashed by: 1, or 2 (formats 2, 3 and 4
    hash alike; formats 3 and 4 changed only where the head pointer is kept)."""
    return 1 if format_version == 1 else 2


def check_format_version(obj: Mapping[str, object], what: str) -> None:
    """Raise UnknownFormatVersion unless ``obj["formatVersion"]`` is one this reader knows."""
    found = obj.get("formatVersion")
    if type(found) is not int or found not in KNOWN_FORMAT_VERSIONS:
        raise UnknownFormatVersion(
            f"{what}: formatVersion {found!r} is not supported "
            f"(this reader knows {sorted(KNOWN_FORMAT_VERSIONS)})"
        )
