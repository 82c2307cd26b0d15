"""What each role may do with Backstay: one set of roles per permission.

Stored under ``meta/access`` (docs/FORMAT.md, "Access"). By default only administrators (the
owner, and system users with role admin) hold any permission; the panel grants more roles. The
owner holds every permission whatever is stored, so the hotel can never lock itself out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Final

from app.core.access.identity import ADMIN, OWNER, Identity
from app.core.errors import CorruptData
from app.core.formats.format import FORMAT_VERSION, check_format_version

ACCESS_KEY = "access"
#: Each permission and what it allows (shown in the panel).
PERMISSIONS: Final = {
    "view": "open Version Control & Backups and read the history of other people's edits",
    "restore": "restore, merge and revert versions",
    "import": "import backups",
    "export": "export backups and the audit trail",
    "delete": "delete versions and clean up",
    "settings": "change Backstay's settings and these permissions",
    "passphrase": "set or change the encryption passphrase",
}


class AccessDenied(Exception):
    """The user lacks a permission; the message says which and what to do."""


@dataclass(frozen=True)
class Permissions:
    roles: dict[str, frozenset[str]] = field(
        default_factory=lambda: {name: frozenset({ADMIN}) for name in PERMISSIONS})

    def allows(self, identity: Identity, permission: str) -> bool:
        if permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}")
        if identity.role == OWNER:
            return True
        allowed = self.roles.get(permission, frozenset({ADMIN}))
        return identity.role in allowed or (identity.is_admin and ADMIN in allowed)

    def check(self, identity: Identity, permission: str) -> None:
        if not self.allows(identity, permission):
            raise AccessDenied(
                f"{identity.login} (role {identity.role}) may not {PERMISSIONS[permission]}: "
                "ask the hotel's administrator to do it, or to grant your role this permission "
                "in Version Control & Backups")

    def granted(self, permission: str, roles: list[str]) -> Permissions:
        if permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}")
        if not all(isinstance(role, str) and role for role in roles):
            raise ValueError("roles are non-empty names")
        return Permissions({**self.roles, permission: frozenset(roles)})

    def to_dict(self) -> dict[str, list[str]]:
        return {name: sorted(self.roles.get(name, frozenset({ADMIN}))) for name in PERMISSIONS}

    def encode(self) -> bytes:
        return json.dumps({"formatVersion": FORMAT_VERSION, "roles": self.to_dict()},
                          separators=(",", ":")).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes | None) -> Permissions:
        if data is None:
            return cls()
        try:
            raw = json.loads(data)
            check_format_version(raw, "access settings")
            roles = raw["roles"]
            return cls({name: frozenset(str(role) for role in roles.get(name, [ADMIN]))
                        for name in PERMISSIONS})
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise CorruptData(f"the access settings are unreadable: {error}") from None
