"""Version ids: unique across devices and sorting chronologically as strings.

``<timestamp ms, 13 digits>-<sequence number, 9 digits>-<random suffix>``, for example
``1717171717171-000000042-9f3a1c2e``. The timestamp never decreases along a chain (see Chain),
the sequence number breaks ties, the suffix tells devices apart.
"""

from __future__ import annotations

import re
import secrets

_SUFFIX = re.compile(r"[0-9a-z]{1,32}")
_VERSION_ID = re.compile(r"\d{13}-\d{9}-[0-9a-z]{1,32}")


def random_suffix() -> str:
    return secrets.token_hex(4)


def make_version_id(timestamp_ms: int, seq: int, suffix: str) -> str:
    if not 0 <= timestamp_ms < 10**13 or not 0 <= seq < 10**9:
        raise ValueError(f"timestamp {timestamp_ms} or sequence number {seq} out of range")
    if not _SUFFIX.fullmatch(suffix):
        raise ValueError(f"version id suffix {suffix!r} must be 1-32 of [0-9a-z]")
    return f"{timestamp_ms:013d}-{seq:09d}-{suffix}"


def is_version_id(text: str) -> bool:
    return _VERSION_ID.fullmatch(text) is not None
