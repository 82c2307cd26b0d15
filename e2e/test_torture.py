"""The torture test: random writes from several tabs - concurrent ones to the same key, through
fetch and XMLHttpRequest, awaited or not - with random reloads, tab closes, server restarts and
injected failures (refused, delayed so that writes overtake each other, hung). At the end,
against the server's own log of the writes it applied, in the order it applied them:

- the head equals the store, and
- for every key, the values the versions hold, in version order, are values the store held,
  in the order it held them (a subsequence of the applied log).

`make test` runs one fixed seed; `make torture` runs many (BACKSTAY_TORTURE_SEEDS,
BACKSTAY_TORTURE_STEPS) and writes its figures to BACKSTAY_TORTURE_REPORT when set.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

import pytest
from faults import add_fault, applied_log, clear_faults
from harness import Server, versions, wait_ready

KEYS = ["w3-hotel-guests", "w3-hotel-rooms"]
SEEDS = [int(seed) for seed in os.environ.get("BACKSTAY_TORTURE_SEEDS", "7").split(",") if seed]
STEPS = int(os.environ.get("BACKSTAY_TORTURE_STEPS", "30"))
REPORT = os.environ.get("BACKSTAY_TORTURE_REPORT", "")

WRITE_JS = """([key, value, via, wait]) => {
    const body = JSON.stringify(value);
    const sent = via === 'xhr'
      ? new Promise((resolve) => { const x = new XMLHttpRequest(); x.open('POST', '/_spark/kv/' + key);
                                   x.onloadend = resolve; x.send(body); })
      : fetch('/_spark/kv/' + key, {method: 'POST', body}).catch(() => null);
    return wait ? sent.then(() => true) : true;
}"""
DELETE_JS = "(key) => fetch('/_spark/kv/' + key, {method: 'DELETE'}).catch(() => null).then(() => true)"


class Torture:
    def __init__(self, context: Any, server: Server, seed: int) -> None:
        self.context = context
        self.server = server
        self.rng = random.Random(seed)
        self.tabs: list[Any] = []
        self.writes = 0
        self.counter = 0

    def open_tab(self) -> None:
        page = self.context.new_page()
        page.goto(self.server.url + "/")
        page.wait_for_function("() => window.__backstayCapture !== undefined")
        self.tabs.append(page)

    def value(self) -> list[dict[str, Any]]:
        self.counter += 1
        return [{"id": f"r-{n}", "v": self.counter} for n in range(self.rng.randint(1, 3))]

    def step(self) -> None:
        rng = self.rng
        roll = rng.random()
        tab = rng.choice(self.tabs)
        key = rng.choice(KEYS)
        if roll < 0.45:
            self.writes += 1
            tab.evaluate(WRITE_JS, [key, self.value(), rng.choice(["fetch", "xhr"]), rng.random() < 0.5])
        elif roll < 0.6:  # a burst of overlapping writes to one key, not awaited
            for _ in range(rng.randint(2, 5)):
                self.writes += 1
                rng.choice(self.tabs).evaluate(WRITE_JS, [key, self.value(), "fetch", False])
        elif roll < 0.64:
            self.writes += 1
            tab.evaluate(DELETE_JS, key)
        elif roll < 0.72:
            action = rng.choice(["refuse", "delay", "delay", "hang"])
            add_fault(self.server.url, method="POST", path=f"/_spark/kv/{key}", action=action,
                      status=503, ms=rng.randint(200, 1500), count=rng.randint(1, 2))
        elif roll < 0.8:
            tab.reload(wait_until="commit")
            tab.wait_for_function("() => window.__backstayCapture !== undefined")
        elif roll < 0.87:
            if len(self.tabs) > 1:
                self.tabs.remove(tab)
                tab.close()
            self.open_tab()
        elif roll < 0.91:
            self.server.stop()
            time.sleep(rng.uniform(0.1, 1.0))
            self.server.start()
        else:
            tab.wait_for_timeout(rng.randint(50, 800))

    def settle(self, timeout_s: float = 120) -> None:
        clear_faults(self.server.url)
        page = self.tabs[0]
        # A page loaded while the server was down could not load its runtime (its banner says
        # so); the user reloads it.
        page.reload()
        wait_ready(page)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = page.evaluate("() => window.backstay.status()")
            if status["waiting"] == 0 and status["ready"]:
                head = self.head(page)
                if all(head.get(key) == self.server.kv_get(key) for key in KEYS):
                    return
            page.wait_for_timeout(500)
        raise AssertionError(f"the engine did not settle: {page.evaluate('() => window.backstay.status()')}")

    def head(self, page: Any) -> dict[str, Any]:
        found = versions(page)
        return dict(page.evaluate("id => window.backstay.stateAt(id)", found[0]["id"])) if found else {}


def violations(page: Any, server: Server) -> list[str]:
    """What the history says that the store's log contradicts."""
    log = applied_log(server.url)
    truth: dict[str, list[Any]] = {key: [None] for key in KEYS}
    for item in log:
        if item["key"] in truth:
            truth[item["key"]].append(None if item["op"] == "delete" else json.loads(item["body"]))
    recorded: dict[str, list[Any]] = {key: [] for key in KEYS}
    for version in reversed(versions(page)):
        state = page.evaluate("id => window.backstay.stateAt(id)", version["id"])
        for key in KEYS:
            value = state.get(key)
            if not recorded[key] or recorded[key][-1] != value:
                recorded[key].append(value)
    problems = []
    for key in KEYS:
        position = 0
        for value in recorded[key]:
            while position < len(truth[key]) and truth[key][position] != value:
                position += 1
            if position == len(truth[key]):
                problems.append(f"{key}: recorded {recorded[key]} is not in the store's order {truth[key]}")
                break
        if recorded[key] and recorded[key][-1] != server.kv_get(key):
            problems.append(f"{key}: head {recorded[key][-1]} but the store holds {server.kv_get(key)}")
    return problems


@pytest.fixture
def fault_server(tmp_path: Any) -> Any:
    srv = Server(data=tmp_path / "data", user={"BACKSTAY_FAULTS": "1"})
    srv.data.mkdir()
    srv.start()
    yield srv
    srv.stop()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("seed", SEEDS)
def test_random_tabs_writes_and_failures_leave_a_true_history(context: Any, fault_server: Server,
                                                              seed: int) -> None:
    torture = Torture(context, fault_server, seed)
    torture.open_tab()
    wait_ready(torture.tabs[0])
    torture.open_tab()
    for _ in range(STEPS):
        torture.step()
    try:
        torture.settle()
    except AssertionError as error:
        found = [str(error)]
    else:
        found = violations(torture.tabs[0], fault_server)
    if REPORT:
        with open(REPORT, "a") as report:
            report.write(json.dumps({"seed": seed, "steps": STEPS, "writes": torture.writes,
                                     "violations": found}) + "\n")
    assert found == []
