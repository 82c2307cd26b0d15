"""Configuration of the local server, read once from the environment by the entrypoint.

Variables (all optional):
  BACKSTAY_PORT         TCP port on 127.0.0.1 (default 8000; 0 picks a free port).
  BACKSTAY_DATA         data directory holding kv.sqlite3 (default ./data).
  BACKSTAY_USER_LOGIN   login of the signed-in Spark user (default "admin").
  BACKSTAY_USER_EMAIL   their email (default "<login>@example.com").
  BACKSTAY_USER_OWNER   "1" if they own the app (an admin), "0" for staff such as a
                        front-desk clerk (default "1").
  BACKSTAY_USER_ID      their numeric id (default 1).
  BACKSTAY_ALLOWED_HOSTS  comma-separated host names the server also answers to, besides
                        127.0.0.1, localhost and [::1] (see guard.py); default none.
  BACKSTAY_FAULTS       "1" turns on the test-only fault switch (default "0"): the routes
                        /_backstay/faults and /_backstay/faults/log, which make the server
                        refuse, delay, hang or drop chosen requests and report every KV write it
                        applied, in commit order (see faults.py). Never for real use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_DATA_DIR = "./data"
#: Largest request body the KV routes accept (a value of tens of MB is normal for big hotels).
DEFAULT_MAX_VALUE_BYTES = 512 * 1024 * 1024

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """An environment variable holds a value the server cannot use."""


@dataclass(frozen=True)
class SparkUser:
    """The signed-in user, as GET /_spark/user reports it."""

    login: str = "admin"
    email: str = "admin@example.com"
    id: int = 1
    is_owner: bool = True
    avatar_url: str = "/_backstay/avatar.svg"

    def to_json(self) -> dict[str, object]:
        """The user in the field names of the Spark runtime's User type."""
        return {
            "login": self.login,
            "avatarUrl": self.avatar_url,
            "email": self.email,
            "id": self.id,
            "isOwner": self.is_owner,
        }


def _project_root() -> Path:
    """The repository root: the folder holding index.html, static/ and app/."""
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Config:
    """Everything the composition root needs to build the server."""

    port: int = DEFAULT_PORT
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    user: SparkUser = field(default_factory=SparkUser)
    project_root: Path = field(default_factory=_project_root)
    host: str = HOST
    max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES
    faults: bool = False
    allowed_hosts: tuple[str, ...] = ()

    @property
    def database_path(self) -> Path:
        return self.data_dir / "kv.sqlite3"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Config:
        """Read the BACKSTAY_* variables; raise ConfigError for unusable values."""
        login = environ.get("BACKSTAY_USER_LOGIN", "").strip() or "admin"
        user = SparkUser(
            login=login,
            email=environ.get("BACKSTAY_USER_EMAIL", "").strip() or f"{login}@example.com",
            id=_parse_int(environ, "BACKSTAY_USER_ID", 1, minimum=0),
            is_owner=_parse_bool(environ, "BACKSTAY_USER_OWNER", True),
        )
        return cls(
            port=_parse_int(environ, "BACKSTAY_PORT", DEFAULT_PORT, minimum=0, maximum=65535),
            data_dir=Path(environ.get("BACKSTAY_DATA", "").strip() or DEFAULT_DATA_DIR),
            user=user,
            faults=_parse_bool(environ, "BACKSTAY_FAULTS", False),
            allowed_hosts=tuple(h.strip() for h in environ.get("BACKSTAY_ALLOWED_HOSTS", "").split(",")
                                if h.strip()),
        )


def _parse_int(
    environ: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise ConfigError(f"{name} must be at least {minimum}{upper}, got {value}")
    return value


def _parse_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f'{name} must be "1" or "0", got {raw!r}')
