"""The real server, `python -m app.server` under uvicorn, in a subprocess: restarts, crashes,
concurrent writers, big values over real HTTP, configuration from the environment."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import httpx
from server_harness import ROOT, ServerProcess


def kv_url(base: str, key: str, collection: str | None = None) -> str:
    url = f"{base}/_spark/kv/{quote(key, safe='')}"
    return url if collection is None else f"{url}?collection={quote(collection, safe='')}"


def test_prints_its_url_creates_the_data_dir_and_serves(server: ServerProcess) -> None:
    server.data = server.data / "nested" / "dir"
    url = server.start()
    assert url.startswith("http://127.0.0.1:")
    assert (server.data / "kv.sqlite3").is_file()
    assert httpx.get(f"{url}/_spark/kv").json() == []
    assert httpx.get(f"{url}/").status_code == 200


def test_data_survives_a_restart(server: ServerProcess) -> None:
    url = server.start()
    guests = [{"id": f"gst-{n}", "firstName": "Amaya", "lastName": "Perera"} for n in range(100)]
    assert httpx.post(kv_url(url, "w3-hotel-guests"), content=json.dumps(guests)).status_code == 200
    assert httpx.post(kv_url(url, "a/b ü"), content=b'"odd key"').status_code == 200
    assert httpx.post(kv_url(url, "k", "versions"), content=b"[1]").status_code == 200
    assert httpx.post(kv_url(url, "gone"), content=b"1").status_code == 200
    assert httpx.delete(kv_url(url, "gone")).status_code == 200
    assert server.stop() == 0

    url = server.start()
    assert httpx.get(kv_url(url, "w3-hotel-guests")).json() == guests
    assert httpx.get(kv_url(url, "a/b ü")).json() == "odd key"
    assert httpx.get(kv_url(url, "k", "versions")).json() == [1]
    assert httpx.get(kv_url(url, "gone")).status_code == 404
    assert sorted(httpx.get(f"{url}/_spark/kv").json()) == ["a/b ü", "w3-hotel-guests"]


def test_a_committed_write_survives_a_crash(server: ServerProcess) -> None:
    url = server.start()
    assert httpx.post(kv_url(url, "k"), content=b'{"saved": true}').status_code == 200
    server.kill()
    url = server.start()
    assert httpx.get(kv_url(url, "k")).json() == {"saved": True}


def test_concurrent_writers_leave_one_whole_value(server: ServerProcess) -> None:
    url = server.start()
    key = kv_url(url, "w3-hotel-reservations")
    writers, rounds = 6, 8
    # Values of different lengths, so a mix or truncation could not pass for a written value.
    bodies = {
        json.dumps([{"writer": w, "round": r, "pad": "x" * (50_000 + 997 * w + 31 * r)}]).encode()
        for w in range(writers) for r in range(rounds)
    }
    failures: list[str] = []
    done = threading.Event()

    def write(writer: int) -> None:
        with httpx.Client(timeout=60) as http:
            for r in range(rounds):
                body = json.dumps([{"writer": writer, "round": r,
                                    "pad": "x" * (50_000 + 997 * writer + 31 * r)}]).encode()
                response = http.post(key, content=body, headers={"Content-Type": "text/plain"})
                if response.status_code != 200:
                    failures.append(f"write {response.status_code}")

    def read() -> None:
        with httpx.Client(timeout=60) as http:
            while not done.is_set():
                response = http.get(key)
                if response.status_code == 200 and response.content not in bodies:
                    failures.append(f"read a value nobody wrote ({len(response.content)} bytes)")

    readers = [threading.Thread(target=read) for _ in range(2)]
    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in readers + threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    for thread in readers:
        thread.join()
    assert failures == []
    assert httpx.get(key).content in bodies


def test_a_30_mb_value_over_real_http(server: ServerProcess) -> None:
    url = server.start()
    guest = {"firstName": "Dilini", "lastName": "Wickramasinghe", "address": "12 Galle Road, Colombo"}
    text = json.dumps([dict(guest, id=f"gst-{n:06d}", pad="p" * 180) for n in range(120_000)])
    assert len(text) > 30_000_000
    with httpx.Client(timeout=120) as http:
        assert http.post(kv_url(url, "w3-hotel-guests"), content=text.encode()).status_code == 200
        assert http.get(kv_url(url, "w3-hotel-guests")).content == text.encode()


def test_a_bad_body_is_400_over_real_http(server: ServerProcess) -> None:
    url = server.start()
    httpx.post(kv_url(url, "k"), content=b"[1]")
    response = httpx.post(kv_url(url, "k"), content=b"<html>")
    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]
    assert httpx.get(kv_url(url, "k")).json() == [1]


def test_the_user_comes_from_the_environment(server: ServerProcess) -> None:
    server.env = {"BACKSTAY_USER_LOGIN": "frontdesk", "BACKSTAY_USER_OWNER": "0",
                  "BACKSTAY_USER_EMAIL": "desk@w3.test", "BACKSTAY_USER_ID": "12"}
    url = server.start()
    assert httpx.get(f"{url}/_spark/user").json() == {
        "login": "frontdesk", "avatarUrl": "/_backstay/avatar.svg", "email": "desk@w3.test",
        "id": 12, "isOwner": False,
    }


def test_a_bad_setting_stops_with_a_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.server"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "BACKSTAY_PORT": "not-a-port", "BACKSTAY_DATA": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "BACKSTAY_PORT" in result.stderr
