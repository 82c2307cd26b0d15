"""Config.from_env: the BACKSTAY_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.server.config import DEFAULT_PORT, Config, ConfigError


def test_defaults() -> None:
    config = Config.from_env({})
    assert config.port == DEFAULT_PORT == 8000
    assert config.data_dir == Path("./data")
    assert config.host == "127.0.0.1"
    assert config.database_path == Path("./data/kv.sqlite3")
    assert (config.user.login, config.user.email, config.user.id, config.user.is_owner) == (
        "admin", "admin@example.com", 1, True)
    assert (config.project_root / "app" / "server" / "config.py").is_file()


def test_values_from_the_environment(tmp_path: Path) -> None:
    config = Config.from_env({
        "BACKSTAY_PORT": "18123", "BACKSTAY_DATA": str(tmp_path), "BACKSTAY_USER_LOGIN": "desk",
        "BACKSTAY_USER_EMAIL": "desk@w3.test", "BACKSTAY_USER_OWNER": "0", "BACKSTAY_USER_ID": "99",
    })
    assert config.port == 18123
    assert config.data_dir == tmp_path
    assert config.user.to_json() == {
        "login": "desk", "avatarUrl": "/_backstay/avatar.svg", "email": "desk@w3.test", "id": 99,
        "isOwner": False,
    }


def test_email_follows_the_login() -> None:
    assert Config.from_env({"BACKSTAY_USER_LOGIN": "kasun"}).user.email == "kasun@example.com"


@pytest.mark.parametrize("raw", ["true", "yes", "1", "ON"])
def test_owner_truthy(raw: str) -> None:
    assert Config.from_env({"BACKSTAY_USER_OWNER": raw}).user.is_owner is True


@pytest.mark.parametrize("raw", ["false", "no", "0", "off"])
def test_owner_falsy(raw: str) -> None:
    assert Config.from_env({"BACKSTAY_USER_OWNER": raw}).user.is_owner is False


@pytest.mark.parametrize(
    "environ",
    [{"BACKSTAY_PORT": "eighty"}, {"BACKSTAY_PORT": "70000"}, {"BACKSTAY_PORT": "-1"},
     {"BACKSTAY_USER_OWNER": "maybe"}, {"BACKSTAY_USER_ID": "x"}],
)
def test_bad_values_raise_config_error(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=next(iter(environ))):
        Config.from_env(environ)


def test_the_fault_switch_is_off_unless_asked_for() -> None:
    assert Config.from_env({}).faults is False
    assert Config.from_env({"BACKSTAY_FAULTS": "1"}).faults is True
    assert Config.from_env({"BACKSTAY_FAULTS": "0"}).faults is False
    with pytest.raises(ConfigError, match="BACKSTAY_FAULTS"):
        Config.from_env({"BACKSTAY_FAULTS": "maybe"})
