"""Large values: the server reads, checks and stores them in bounded memory (kv_api._read_body,
json_validation, SqliteKv's blob writes) with the same acceptance rules as for small ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from server_harness import AppFactory, ServerProcess
from starlette.testclient import TestClient

GUESTS = "w3-hotel-guests"
MB = 1_000_000


def url(key: str = GUESTS) -> str:
    return f"/_spark/kv/{quote(key, safe='')}"


def guest_array(size: int, *, extra: str = "") -> bytes:
    """A guests array of about `size` bytes (non-ASCII names, nested lists, 1e400 and a lone
    surrogate escape among them); `extra` is spliced in as its last element."""
    records: list[str] = []
    total, n = 0, 0
    while total < size:
        guest = {"id": f"gst-{n:07d}", "firstName": ("Jürgen", "Nimali", "Zoë", "晓明")[n % 4],
                 "lastName": "Großmann-Perera", "phone": f"+94 77 {n % 1000:03d} {n % 10_000:04d}",
                 "preferences": ["quiet room", "sea view"][: n % 3], "loyaltyPoints": n * 7,
                 "totalSpent": n * 12.5, "vip": n % 5 == 0, "notes": None if n % 2 else "late check-in 🛏"}
        text = json.dumps(guest, ensure_ascii=False, indent=None if n % 3 else 1)
        if n % 1000 == 7:
            text = text[:-1] + ', "odd": [1e400, "\\ud800", -0.0E-7]}'
        records.append(text)
        total += len(text.encode()) + 2
        n += 1
    if extra:
        records.append(extra)
    return ("[" + ",\n".join(records) + "]").encode()


def post(client: TestClient | httpx.Client, body: bytes, key: str = GUESTS) -> httpx.Response:
    return client.post(url(key), content=body, headers={"Content-Type": "text/plain"})


@pytest.fixture
def real(server: ServerProcess) -> Iterator[httpx.Client]:
    server.start()
    with httpx.Client(base_url=server.url, timeout=120) as http:
        yield http


def test_a_large_value_is_stored_and_read_back_byte_identical(real: httpx.Client) -> None:
    body = guest_array(25 * MB)
    assert post(real, body).json() == {"key": GUESTS, "stored": True}
    assert real.get(url()).content == body
    replaced = guest_array(25 * MB + 1000)
    assert post(real, replaced).status_code == 200
    assert real.get(url()).content == replaced


def test_a_body_sent_without_content_length_is_read_whole(real: httpx.Client) -> None:
    body = guest_array(3 * MB)
    chunks = (body[start : start + 65_536] for start in range(0, len(body), 65_536))
    response = real.post(url(), content=chunks)  # a generator: chunked transfer encoding
    assert response.status_code == 200
    assert real.get(url()).content == body


def test_chunked_body_over_the_limit_is_413(make_client: AppFactory) -> None:
    small = make_client(max_value_bytes=10_000)
    body = guest_array(20_000)
    response = small.post(url(), content=(body[i : i + 1000] for i in range(0, len(body), 1000)))
    assert response.status_code == 413
    assert small.get(url()).status_code == 404


@pytest.mark.parametrize("bad, reason", [
    ('{"id": "gst-bad", "firstName": tru}', "Expecting value"),
    ('{"id": "gst-bad", "stay": NaN}', "NaN is not valid JSON"),
    ('{"id": "gst-bad" "firstName": "x"}', "Expecting ',' delimiter"),
    ('{"id": "gst-bad", "notes": "tab\there"}', "Invalid control character"),
])
def test_invalid_json_late_in_a_large_array_is_refused_and_changes_nothing(
        client: TestClient, bad: str, reason: str) -> None:
    kept = guest_array(1000)
    assert post(client, kept).status_code == 200
    body = guest_array(12 * MB, extra=bad)
    response = post(client, body)
    assert response.status_code == 400
    message = response.json()["error"]
    assert message.startswith(f"value for key {GUESTS!r} not stored: the body is not JSON: {reason}")
    assert client.get(url()).content == kept
    assert post(client, body, key="new-key").status_code == 400
    assert client.get("/_spark/kv").json() == [GUESTS]


def test_invalid_utf8_late_in_a_large_body_is_refused_with_its_position(client: TestClient) -> None:
    body = guest_array(12 * MB)[:-1] + b',\n"\xed\xb3\xbf"]'  # an encoded surrogate is not UTF-8
    at = len(body) - 5
    response = post(client, body)
    assert response.status_code == 400
    assert response.json()["error"].endswith(f"the body is not UTF-8 text (byte {at})")
    assert post(client, b'["\xff"]').json()["error"].endswith("(byte 2)")
    assert client.get(url()).status_code == 404


@pytest.mark.parametrize("text", ["1e400", '"\\ud800"', '["\\udfff", 1E+400, -1e-400]', "1" * 5000,
                                  '{"a": "\\ud800\\udc00"}'])
def test_numbers_beyond_doubles_and_lone_surrogates_are_stored_byte_for_byte(
        client: TestClient, text: str) -> None:
    assert post(client, text.encode()).status_code == 200
    assert client.get(url()).content == text.encode()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "[1, NaN]", '{"x": -Infinity}'])
def test_nan_and_infinity_are_refused(client: TestClient, constant: str) -> None:
    response = post(client, constant.encode())
    assert response.status_code == 400
    assert "is not valid JSON" in response.json()["error"]
    assert client.get(url()).status_code == 404


def test_deep_nesting_is_refused_with_a_clear_message(client: TestClient) -> None:
    assert post(client, b"[1]").status_code == 200
    deep = b"[" * 200_000 + b"]" * 200_000
    response = post(client, deep)
    assert response.status_code == 400
    assert response.json()["error"] == (
        f"value for key {GUESTS!r} not stored: the body is JSON nested too deeply to check")
    nested_late = guest_array(3 * MB, extra="[" * 5000 + "]" * 5000)
    assert "nested too deeply" in post(client, nested_late).json()["error"]
    assert client.get(url()).content == b"[1]"


def test_a_large_object_is_checked_member_by_member(client: TestClient) -> None:
    guests = guest_array(6 * MB).decode()
    body = f'{{"hotel": "Galle Face", "guests": {guests}, "count": 1e400}}'.encode()
    assert post(client, body, key="doc").status_code == 200
    assert client.get(url("doc")).content == body
    broken = f'{{"hotel": "Galle Face", "guests": {guests}, "count": 1e400 "late": 1}}'.encode()
    response = post(client, broken, key="doc")
    assert response.status_code == 400
    assert "Expecting ',' delimiter" in response.json()["error"]
    assert client.get(url("doc")).content == body


@pytest.mark.parametrize("text, valid", [
    ('"' + "é" * 1_500_000 + '"', True),
    ("-12.5e+3", True),
    ('  "a string"  ', True),
    ("12 34", False),
    ('"' + "x" * 1_000_000, False),
    ('"a" "b"', False),
])
def test_top_level_values_other_than_arrays(client: TestClient, text: str, valid: bool) -> None:
    response = post(client, text.encode(), key="scalar")
    assert response.status_code == (200 if valid else 400)
    if valid:
        assert client.get(url("scalar")).content == text.encode()


def _memory_kib(pid: int) -> dict[str, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {name: int(fields[name].split()[0]) for name in ("VmRSS", "VmHWM")}


def test_writing_a_large_value_needs_little_more_memory_than_the_value(server: ServerProcess) -> None:
    base = server.start()
    assert server.process is not None
    body = guest_array(60 * MB)
    with httpx.Client(base_url=base, timeout=300) as http:
        post(http, guest_array(100_000))  # warm up: every module a write needs is loaded
        http.get(url())
        idle = _memory_kib(server.process.pid)["VmRSS"]
        try:  # reset VmHWM to VmRSS, so the peak is the write's (else it may be the start-up's)
            Path(f"/proc/{server.process.pid}/clear_refs").write_text("5")
        except OSError:
            pass
        assert post(http, body).status_code == 200
        peak = _memory_kib(server.process.pid)["VmHWM"]
        grown = (peak - idle) * 1024
        assert grown <= 2.5 * len(body), f"peak grew {grown / len(body):.2f}x the value"
        assert http.get(url()).content == body
