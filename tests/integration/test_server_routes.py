"""The server's other routes: the signed-in user, the load ping, sample data, the app bundle."""

from __future__ import annotations

import io
import json
import zipfile

from server_harness import AppFactory
from starlette.testclient import TestClient

from app.sample import hotel
from app.server.config import Config, SparkUser


def test_user_defaults_to_an_owner_admin(client: TestClient) -> None:
    response = client.get("/_spark/user")
    assert response.status_code == 200
    assert response.json() == {
        "login": "admin", "avatarUrl": "/_backstay/avatar.svg", "email": "admin@example.com",
        "id": 1, "isOwner": True,
    }


def test_user_can_be_a_front_desk_clerk(make_client: AppFactory) -> None:
    clerk = SparkUser(login="frontdesk", email="desk@hotel.test", id=42, is_owner=False)
    body = make_client(user=clerk).get("/_spark/user").json()
    assert body["login"] == "frontdesk" and body["email"] == "desk@hotel.test"
    assert body["id"] == 42 and body["isOwner"] is False


def test_user_from_the_environment(make_client: AppFactory) -> None:
    owner = Config.from_env({"BACKSTAY_USER_LOGIN": "maria", "BACKSTAY_USER_OWNER": "1"}).user
    clerk = Config.from_env({"BACKSTAY_USER_LOGIN": "kasun", "BACKSTAY_USER_OWNER": "0",
                             "BACKSTAY_USER_EMAIL": "kasun@w3.test", "BACKSTAY_USER_ID": "7"}).user
    assert make_client(user=owner).get("/_spark/user").json()["isOwner"] is True
    assert make_client(user=clerk).get("/_spark/user").json() == {
        "login": "kasun", "avatarUrl": "/_backstay/avatar.svg", "email": "kasun@w3.test",
        "id": 7, "isOwner": False,
    }


def test_avatar_is_served_locally(client: TestClient) -> None:
    response = client.get("/_backstay/avatar.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert b">A</text>" in response.content


def test_loaded_ping_is_accepted(client: TestClient) -> None:
    payload = {"url": "http://127.0.0.1/", "load_ms": 12.5}
    assert client.post("/_spark/loaded", json=payload).status_code == 200
    assert client.get("/_spark/loaded").status_code == 200


def test_sample_small_is_the_generator_output(client: TestClient) -> None:
    response = client.get("/_backstay/sample?size=small")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(json.dumps(hotel.generate("small")))
    assert client.get("/_backstay/sample?size=small").content == response.content


def test_sample_defaults_to_small(client: TestClient) -> None:
    assert set(client.get("/_backstay/sample").json()) == set(hotel.KEYS)


def test_sample_of_unknown_size_is_400(client: TestClient) -> None:
    response = client.get("/_backstay/sample?size=huge")
    assert response.status_code == 400
    assert "small" in response.json()["error"]


def test_app_bundle_holds_the_browser_packages_only(client: TestClient) -> None:
    response = client.get("/_backstay/app.zip")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "core/chain.py" in names and "browser/engine_main.py" in names
    assert "sample/hotel.py" in names and "__init__.py" in names
    assert not [name for name in names if name.startswith(("server/", "cli/")) or ".pyc" in name]


def test_unknown_routes_and_methods_answer_json_errors(client: TestClient) -> None:
    missing = client.get("/_spark/nothing")
    assert missing.status_code == 404 and "error" in missing.json()
    wrong = client.delete("/_spark/user")
    assert wrong.status_code == 405 and "error" in wrong.json()
