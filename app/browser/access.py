"""Access: who the signed-in user is to Backstay, and what they may do.

The identity comes from /_spark/user and the PMS's system users (the head text of
``w3-hotel-system-users``, so no extra request); it is worked out again whenever the history
moves. The permissions are stored in Backstay's own store (``meta/access``). The rule and the
permissions are app.core.access's; this is where the engine keeps them at hand, so that status()
can answer at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from app.core.access.identity import SYSTEM_USERS_KEY, Identity, identify
from app.core.access.permissions import ACCESS_KEY, PERMISSIONS, Permissions
from app.core.chain import Chain
from app.core.formats.json_value import Json, parse_json
from app.core.ports import Batch


class Access:
    def __init__(self) -> None:
        self._user: dict[str, Any] = {}
        self._identity = identify({}, None)
        self._permissions = Permissions()
        self._seen: tuple[str | None, bytes | None] | None = None

    def set_user(self, user: dict[str, Any]) -> None:
        self._user = dict(user)
        self._identity = identify(self._user, None)  # the owner is known at once
        self._seen = None

    @property
    def user(self) -> dict[str, Any]:
        """The signed-in user, as /_spark/user answered."""
        return dict(self._user)

    @property
    def login(self) -> str:
        return str(self._user.get("login") or "unknown")

    @property
    def identity(self) -> Identity:
        """As of the last refresh (status() must not wait)."""
        return self._identity

    def can(self) -> dict[str, bool]:
        return {name: self._permissions.allows(self._identity, name) for name in PERMISSIONS}

    async def refresh(self, chain: Chain) -> Identity:
        stored = await chain.store.get("meta", ACCESS_KEY)
        seen = (chain.head_version_id, stored)
        if seen != self._seen:
            text = await chain.head_text(SYSTEM_USERS_KEY)
            users: Json = None
            if text is not None:
                try:
                    users = parse_json(text)
                except ValueError:
                    users = None
            self._identity = identify(self._user, users)
            self._permissions = Permissions.decode(stored)
            self._seen = seen
        return self._identity

    def check_by_default(self, permission: str) -> Identity:
        """As ``check``, when the store cannot be read (lost from the disk): the signed-in user
        alone (the PMS's users unread: only the owner is an administrator), against the default
        permissions."""
        identity = identify(self._user, None)
        Permissions.decode(None).check(identity, permission)
        return identity

    async def check(self, chain: Chain, permission: str) -> Identity:
        """The identity, if it holds ``permission``; AccessDenied (with what to do) otherwise."""
        identity = await self.refresh(chain)
        self._permissions.check(identity, permission)
        return identity

    async def permissions(self, chain: Chain) -> Permissions:
        await self.refresh(chain)
        return self._permissions

    async def grant(self, chain: Chain, permission: str, roles: list[str]) -> Permissions:
        changed = (await self.permissions(chain)).granted(permission, roles)
        batch = Batch()
        batch.put("meta", ACCESS_KEY, changed.encode())
        await chain.store.apply(batch)
        self._seen = None
        return changed


#: Who another tab's request acts for, while the draining engine carries it out.
_ACTING: ContextVar[Access | None] = ContextVar("backstay_acting", default=None)


def acting() -> Access | None:
    """The Access of the user another tab's request is carried out for, if one is."""
    return _ACTING.get()


@contextmanager
def acting_as(user: dict[str, Any] | None) -> Iterator[None]:
    """Carry out another tab's request as the user signed in there: its permissions are checked,
    and its actions audited, for that user - not for whoever the engine's own tab last saw. A
    request that names no user (its tab could not learn who is signed in) is carried out for
    nobody in particular: a user with no role beyond staff."""
    access = Access()
    access.set_user(dict(user or {}))
    token = _ACTING.set(access)
    try:
        yield
    finally:
        _ACTING.reset(token)
