"""The test-only fault switch (app/server/faults.py) and the applied log, on the real server
(BACKSTAY_FAULTS=1), through the helpers the end-to-end tests use (e2e/faults.py)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from server_harness import AppFactory, ServerProcess

from e2e.faults import FaultSwitchError, add_fault, applied_log, clear_applied_log, clear_faults, list_faults

GUESTS = "w3-hotel-guests"
GUESTS_PATH = f"/_spark/kv/{GUESTS}"


@pytest.fixture
def faulty(tmp_path: Path) -> Iterator[ServerProcess]:
    """A started real server with the fault switch on."""
    running = ServerProcess(data=tmp_path / "server-data", env={"BACKSTAY_FAULTS": "1"})
    running.start()
    yield running
    running.stop()


def kv(base: str, key: str = GUESTS) -> str:
    return f"{base}/_spark/kv/{quote(key, safe='')}"


def guests(*names: str) -> bytes:
    return json.dumps([{"id": f"g-{n}", "firstName": name} for n, name in enumerate(names)]).encode()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll until `condition` holds (a readiness wait, not a timing assertion)."""
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


def in_background(action: Callable[[], httpx.Response]) -> Callable[[], httpx.Response]:
    """Run `action` in a thread; the returned function joins it and gives its response."""
    result: list[httpx.Response | BaseException] = []

    def run() -> None:
        try:
            result.append(action())
        except BaseException as problem:  # noqa: BLE001 - re-raised by the joiner
            result.append(problem)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> httpx.Response:
        thread.join(timeout=60)
        outcome = result[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return join


def bodies(base: str) -> list[bytes | None]:
    """The bodies of the applied log, in its order."""
    return [None if entry["body"] is None else entry["body"].encode() for entry in applied_log(base)]


def hits(base: str, rule_id: int) -> int:
    return next(rule["hits"] for rule in list_faults(base) if rule["id"] == rule_id)


# --- switched off ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
@pytest.mark.parametrize("path", ["/_backstay/faults", "/_backstay/faults/log"])
def test_without_the_switch_the_routes_do_not_exist(make_client: AppFactory, method: str, path: str) -> None:
    client = make_client()
    response = client.request(method, path, content=b"{}")
    assert response.status_code == 404
    assert "error" in response.json()


def test_without_the_switch_nothing_is_logged(make_client: AppFactory) -> None:
    client = make_client()
    client.post("/_spark/kv/k", content=b"1")
    store = client.app.state.store  # type: ignore[attr-defined]
    assert store.applied() == []
    assert client.app.state.faults is None  # type: ignore[attr-defined]


# --- rules ---------------------------------------------------------------------------------------

def test_rules_are_listed_with_ids_and_cleared(make_client: AppFactory) -> None:
    client = make_client(faults=True)
    first = client.post("/_backstay/faults", json={"method": "POST", "path": GUESTS_PATH, "action": "refuse"})
    assert first.status_code == 200
    assert first.json() == {"id": 1, "method": "POST", "path": GUESTS_PATH, "action": "refuse",
                            "status": 503, "ms": None, "bytes": 4096, "count": 0, "hits": 0}
    second = client.post("/_backstay/faults", json={"path": "/", "action": "delay", "count": 2}).json()
    assert (second["id"], second["method"], second["ms"]) == (2, "*", 1000)
    assert [rule["id"] for rule in client.get("/_backstay/faults").json()] == [1, 2]
    assert client.delete("/_backstay/faults").json() == {"cleared": 2}
    assert client.get("/_backstay/faults").json() == []


@pytest.mark.parametrize("rule", [
    {"path": GUESTS_PATH, "action": "explode"},
    {"path": "no-slash", "action": "refuse"},
    {"action": "refuse"},
    {"path": "/", "action": "refuse", "status": 200},
    {"path": "/", "action": "refuse", "count": -1},
    {"path": "/", "action": "delay", "ms": "soon"},
    {"path": "/", "action": "hang", "ms": True},
    {"path": "/", "action": "refuse", "method": "FETCH"},
    {"path": "/", "action": "refuse", "times": 2},
    ["not", "an", "object"],
])
def test_a_bad_rule_is_400_and_not_added(make_client: AppFactory, rule: object) -> None:
    client = make_client(faults=True)
    response = client.post("/_backstay/faults", json=rule)
    assert response.status_code == 400
    assert "fault rule not added" in response.json()["error"]
    assert client.get("/_backstay/faults").json() == []


def test_the_helpers_report_a_server_without_the_switch(server: ServerProcess) -> None:
    url = server.start()
    with pytest.raises(FaultSwitchError, match="BACKSTAY_FAULTS=1"):
        add_fault(url, path="/", action="refuse")


# --- actions -------------------------------------------------------------------------------------

def test_refuse_answers_the_status_and_leaves_the_store(faulty: ServerProcess) -> None:
    url = faulty.url
    assert httpx.post(kv(url), content=guests("Amaya")).status_code == 200
    rule = add_fault(url, method="POST", path=GUESTS_PATH, action="refuse", status=500, count=2)
    for _ in range(2):
        refused = httpx.post(kv(url), content=guests("Nimal"))
        assert refused.status_code == 500
        assert f"test fault {rule['id']}" in refused.json()["error"]
    assert httpx.get(kv(url)).content == guests("Amaya")  # GET does not match the rule
    assert httpx.post(kv(url), content=guests("Kasun")).status_code == 200  # the rule is used up
    assert hits(url, rule["id"]) == 2
    assert bodies(url) == [guests("Amaya"), guests("Kasun")]


def test_rules_match_by_method_and_path_prefix_in_order(faulty: ServerProcess) -> None:
    url = faulty.url
    add_fault(url, method="DELETE", path="/_spark/kv/", action="refuse", status=502)
    add_fault(url, method="*", path=GUESTS_PATH, action="refuse", status=504)
    assert httpx.post(kv(url, "w3-hotel-rooms"), content=b"[]").status_code == 200
    assert httpx.delete(kv(url, "w3-hotel-rooms")).status_code == 502
    assert httpx.delete(kv(url)).status_code == 502  # the first matching rule wins
    assert httpx.get(kv(url)).status_code == 504
    assert httpx.get(f"{url}/_spark/user").status_code == 200
    clear_faults(url)
    assert httpx.delete(kv(url, "w3-hotel-rooms")).json()["deleted"] is True


def test_delay_lets_a_later_write_overtake(faulty: ServerProcess) -> None:
    url = faulty.url
    rule = add_fault(url, method="POST", path=GUESTS_PATH, action="delay", ms=120_000, count=1)
    first = in_background(lambda: httpx.post(kv(url), content=guests("first"), timeout=60))
    wait_until(lambda: hits(url, rule["id"]) == 1, "the first write reached the delay")
    assert httpx.post(kv(url), content=guests("second")).status_code == 200
    assert httpx.get(kv(url)).content == guests("second")
    clear_faults(url)  # the delayed write goes on now, and is applied normally
    assert first().status_code == 200
    assert httpx.get(kv(url)).content == guests("first")
    assert bodies(url) == [guests("second"), guests("first")]


def test_delay_ends_by_itself_after_ms(faulty: ServerProcess) -> None:
    url = faulty.url
    add_fault(url, method="POST", path=GUESTS_PATH, action="delay", ms=50)
    assert httpx.post(kv(url), content=guests("late")).status_code == 200
    assert httpx.get(kv(url)).content == guests("late")


def test_hang_answers_nothing_until_cleared_then_503(faulty: ServerProcess) -> None:
    url = faulty.url
    httpx.post(kv(url), content=guests("kept"))
    rule = add_fault(url, method="POST", path=GUESTS_PATH, action="hang")
    hung = in_background(lambda: httpx.post(kv(url), content=guests("lost"), timeout=60))
    wait_until(lambda: hits(url, rule["id"]) == 1, "the write reached the hang")
    assert httpx.get(kv(url)).content == guests("kept")  # other requests are served meanwhile
    clear_faults(url)
    response = hung()
    assert response.status_code == 503
    assert "held by test fault" in response.json()["error"]
    assert httpx.get(kv(url)).content == guests("kept")
    assert bodies(url) == [guests("kept")]


def test_hang_with_ms_answers_its_status_when_they_pass(faulty: ServerProcess) -> None:
    url = faulty.url
    add_fault(url, method="DELETE", path=GUESTS_PATH, action="hang", ms=100, status=504)
    httpx.post(kv(url), content=guests("kept"))
    assert httpx.delete(kv(url), timeout=60).status_code == 504
    assert httpx.get(kv(url)).content == guests("kept")


def test_a_hung_request_does_not_keep_the_server_from_stopping(faulty: ServerProcess) -> None:
    url = faulty.url
    rule = add_fault(url, method="POST", path=GUESTS_PATH, action="hang")
    hung = in_background(lambda: httpx.post(kv(url), content=guests("x"), timeout=60))
    wait_until(lambda: hits(url, rule["id"]) == 1, "the write reached the hang")
    assert faulty.stop() == 0  # SIGINT; the harness kills (exit code -9) after 15 s otherwise
    assert hung().status_code == 503


def test_drop_closes_the_connection_without_an_answer(faulty: ServerProcess) -> None:
    url = faulty.url
    httpx.post(kv(url), content=guests("kept"))
    add_fault(url, method="POST", path=GUESTS_PATH, action="drop", count=1)
    with httpx.Client(timeout=60) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.post(kv(url), content=guests("lost"))
        assert http.post(kv(url), content=guests("next")).status_code == 200  # count 1: used up
    assert bodies(url) == [guests("kept"), guests("next")]
    assert "ASGI callable" not in "".join(faulty.output)  # uvicorn did not answer 500 instead


def test_cut_sends_part_of_the_body_then_closes_the_connection(faulty: ServerProcess) -> None:
    url = faulty.url
    value = guests(*(f"name {n}" for n in range(5000)))
    httpx.post(kv(url), content=value)
    add_fault(url, method="GET", path=GUESTS_PATH, action="cut", bytes=1000, count=2)
    with httpx.Client(timeout=60) as http:
        for _ in range(2):
            received = bytearray()
            with pytest.raises(httpx.RemoteProtocolError):
                with http.stream("GET", kv(url)) as response:
                    assert response.status_code == 200
                    assert response.headers["content-length"] == str(len(value))
                    for chunk in response.iter_raw():
                        received += chunk
            assert bytes(received) == value[:1000]
        assert http.get(kv(url)).content == value  # count 2: used up
    assert "ASGI callable" not in "".join(faulty.output)


# --- the applied log -----------------------------------------------------------------------------

def test_the_log_holds_applied_writes_only(faulty: ServerProcess) -> None:
    url = faulty.url
    assert httpx.post(kv(url, "k"), content=b' {"a": 1} ').status_code == 200
    initial = {"X-Spark-Initial": "true"}
    assert httpx.post(kv(url, "k"), content=b"[]", headers=initial).json()["stored"] is False
    assert httpx.post(kv(url, "new"), content=b"[]", headers=initial).json()["stored"] is True
    assert httpx.post(kv(url, "k"), content=b"{oops").status_code == 400
    assert httpx.delete(kv(url, "missing")).json()["deleted"] is False
    assert httpx.post(f"{url}/_spark/kv/doc?collection=c", content=b'"in c"').status_code == 200
    assert httpx.delete(kv(url, "k")).json()["deleted"] is True
    log = applied_log(url)
    assert [(e["n"], e["collection"], e["key"], e["op"], e["body"]) for e in log] == [
        (1, "", "k", "set", ' {"a": 1} '),
        (2, "", "new", "set", "[]"),
        (3, "c", "doc", "set", '"in c"'),
        (4, "", "k", "delete", None),
    ]
    times = [entry["time"] for entry in log]
    assert times == sorted(times) and all(isinstance(t, int) and t > 1_600_000_000_000 for t in times)
    assert [entry["n"] for entry in applied_log(url, after=2)] == [3, 4]


def test_the_log_survives_a_restart_and_clearing_keeps_numbering(faulty: ServerProcess) -> None:
    url = faulty.url
    httpx.post(kv(url, "a"), content=b"1")
    httpx.post(kv(url, "b"), content=b"2")
    assert faulty.stop() == 0
    url = faulty.start()
    httpx.post(kv(url, "c"), content=b"3")
    assert [(e["n"], e["key"]) for e in applied_log(url)] == [(1, "a"), (2, "b"), (3, "c")]
    assert list_faults(url) == []  # rules are not kept across a restart
    clear_applied_log(url)
    assert applied_log(url) == []
    httpx.post(kv(url, "d"), content=b"4")
    assert [(e["n"], e["key"]) for e in applied_log(url)] == [(4, "d")]


def test_the_log_order_is_the_commit_order_under_concurrent_writers(faulty: ServerProcess) -> None:
    url = faulty.url
    writers, rounds, keys = 6, 10, ("w3-hotel-guests", "w3-hotel-rooms")
    sent: set[tuple[str, str]] = set()
    failures: list[str] = []
    lock = threading.Lock()

    def write(writer: int) -> None:
        with httpx.Client(timeout=60) as http:
            for r in range(rounds):
                key = keys[(writer + r) % len(keys)]
                body = json.dumps([{"id": f"w{writer}-r{r}", "pad": "x" * (1000 * writer + r)}])
                response = http.post(kv(url, key), content=body.encode())
                if response.status_code != 200:
                    failures.append(f"{response.status_code}")
                with lock:
                    sent.add((key, body))
                if r % 4 == 3:
                    http.delete(kv(url, key))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    log = applied_log(url)
    assert [entry["n"] for entry in log] == list(range(1, len(log) + 1))
    sets = [(entry["key"], entry["body"]) for entry in log if entry["op"] == "set"]
    assert sorted(sets) == sorted(sent)  # each applied set exactly once, as sent
    # Replaying the log in its order gives the store's final state: the order is the commit order.
    replayed: dict[str, str | None] = {}
    for entry in log:
        replayed[entry["key"]] = entry["body"]
    for key in keys:
        response = httpx.get(kv(url, key))
        assert (response.text if response.status_code == 200 else None) == replayed[key]
    # Each writer waited for each answer, so its own writes must appear in the order it sent them.
    for writer in range(writers):
        ids = [json.loads(body)[0]["id"] for _, body in sets]
        rounds_seen = [record_id for record_id in ids if record_id.startswith(f"w{writer}-")]
        assert rounds_seen == [f"w{writer}-r{r}" for r in range(rounds)]
    # A delete is logged only when the key existed: replaying must never delete a missing key.
    present: set[str] = set()
    for entry in log:
        if entry["op"] == "delete":
            assert entry["key"] in present
            present.discard(entry["key"])
        else:
            present.add(entry["key"])
