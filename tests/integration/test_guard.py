"""The server answers only its own pages: foreign Host headers (DNS rebinding) and writes from
other web sites are refused with a clear 403; the PMS's own requests and programs still work."""

from __future__ import annotations

import json

import httpx
import pytest
from server_harness import ServerProcess
from starlette.testclient import TestClient

from app.server.guard import host_name

KEY = "/_spark/kv/w3-hotel-guests"


def test_host_names() -> None:
    assert host_name("127.0.0.1:8000") == "127.0.0.1"
    assert host_name("LocalHost") == "localhost"
    assert host_name("[::1]:9000") == "[::1]"
    assert host_name("evil.example:80") == "evil.example"


def test_a_cross_site_simple_post_is_refused_and_changes_nothing(client: TestClient) -> None:
    assert client.post(KEY, content=b"[1]").status_code == 200
    for headers in ({"Origin": "https://evil.example", "Content-Type": "text/plain"},
                    {"Origin": "null"},
                    {"Origin": "http://127.0.0.1:9999"},  # another local port is another site
                    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}):
        refused = client.post(KEY, content=b'["overwritten"]', headers=headers)
        assert refused.status_code == 403, headers
        assert "another web site" in refused.json()["error"]
        assert client.delete(KEY, headers=headers).status_code == 403
    assert client.get(KEY).json() == [1]


def test_the_pages_own_writes_and_programs_still_work(client: TestClient) -> None:
    own = {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"}
    assert client.post(KEY, content=b"[2]", headers=own).status_code == 200
    assert client.post(KEY, content=b"[3]", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert client.post(KEY, content=b"[4]").status_code == 200  # curl, the CLI: no browser headers
    assert client.get(KEY).json() == [4]


def test_a_foreign_host_is_refused_even_for_reads(client: TestClient) -> None:
    for host in ("rebind.evil.example", "rebind.evil.example:8000", "127.0.0.1.evil.example"):
        refused = client.get(KEY, headers={"Host": host})
        assert refused.status_code == 403
        assert "is not allowed" in refused.json()["error"]
        assert "BACKSTAY_ALLOWED_HOSTS" in refused.json()["error"]
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 403
    assert client.get(KEY, headers={"Host": "localhost:8000"}).status_code in (200, 404)


@pytest.mark.parametrize("hosts", ["hotel.lan", " hotel.lan , other.lan "])
def test_allowed_hosts_from_the_environment(server: ServerProcess, hosts: str) -> None:
    server.env["BACKSTAY_ALLOWED_HOSTS"] = hosts
    url = server.start()
    port = url.rsplit(":", 1)[1]
    assert httpx.get(f"{url}/_spark/kv", headers={"Host": f"hotel.lan:{port}"}).status_code == 200
    assert httpx.get(f"{url}/_spark/kv", headers={"Host": "evil.lan"}).status_code == 403
    written = httpx.post(f"{url}{KEY}", content=json.dumps([1]),
                         headers={"Host": f"hotel.lan:{port}", "Origin": f"http://hotel.lan:{port}"})
    assert written.status_code == 200
    refused = httpx.post(f"{url}{KEY}", content=b"[2]", headers={"Origin": "http://hotel.lan:1"})
    assert refused.status_code == 403


def test_pages_carry_the_content_security_policy(client: TestClient) -> None:
    page = client.get("/")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval';" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "connect-src 'self'" in policy and "object-src 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in client.get("/static/capture.js").headers
