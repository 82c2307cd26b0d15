"""Who the signed-in user is to Backstay: login, role, and whether they are an administrator.

The rule (README, "Who may do what"): the user comes from GET /_spark/user ({login, email,
isOwner, ...}). They are an admin if ``isOwner`` is true, or if the PMS's system users
(``w3-hotel-system-users``) list them - matched by ``username`` against their login, or by
``email`` (both case-insensitively) - with role ``admin`` and ``isActive`` true. Otherwise their
role is that of their active system-user record, or ``staff`` when none matches. The owner's role
is ``owner``; a system-user record cannot give it (its role ``owner`` counts as ``staff``).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.formats.json_value import Json

SYSTEM_USERS_KEY = "w3-hotel-system-users"
ADMIN = "admin"
OWNER = "owner"
STAFF = "staff"


@dataclass(frozen=True)
class Identity:
    login: str
    email: str
    role: str
    is_admin: bool

    def to_dict(self) -> dict[str, Json]:
        return {"login": self.login, "email": self.email, "role": self.role,
                "isAdmin": self.is_admin}


def identify(user: Json, system_users: Json) -> Identity:
    """The identity of ``user`` (the /_spark/user answer) given the system-users value."""
    raw = user if isinstance(user, dict) else {}
    login = str(raw.get("login") or "unknown")
    email = str(raw.get("email") or "")
    if raw.get("isOwner") is True:
        return Identity(login, email, OWNER, True)
    record = _match(login, email, system_users)
    if record is None:
        return Identity(login, email, STAFF, False)
    role = str(record.get("role") or STAFF)
    if role == OWNER:  # only /_spark/user's isOwner makes an owner, never a record of the PMS
        role = STAFF
    return Identity(login, email, role, role == ADMIN)


def _match(login: str, email: str, system_users: Json) -> dict[str, Json] | None:
    if not isinstance(system_users, list):
        return None
    for record in system_users:
        if not isinstance(record, dict) or record.get("isActive") is not True:
            continue
        username = record.get("username")
        address = record.get("email")
        if (isinstance(username, str) and username.casefold() == login.casefold()) or (
                email and isinstance(address, str) and address.casefold() == email.casefold()):
            return record
    return None
