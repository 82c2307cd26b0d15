"""Which Spark KV keys Backstay versions.

Backstay's own keys in the store (the cloud copy of its history, under BACKSTAY_PREFIX) and the
PMS's earlier backup keys are never captured: versioning them would version the versions.
"""

from __future__ import annotations

BACKSTAY_PREFIX = "backstay:"
LEGACY_BACKUP_KEYS = frozenset({"w3-backup-versions", "w3-backup-config"})


def is_versioned(key: str, collection: str = "") -> bool:
    """True when a write to ``key`` (in ``collection``; "" is the default) becomes a version."""
    if collection:
        return False
    return bool(key) and not key.startswith(BACKSTAY_PREFIX) and key not in LEGACY_BACKUP_KEYS
