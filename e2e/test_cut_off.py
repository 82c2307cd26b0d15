"""The store's answers cut off mid-body (the connection closed after part of a value): the start
that reads them says so, records nothing half-read, and records exactly what changed once the
store answers whole. Real Chromium, real server (its test-only "cut" fault), real IndexedDB."""

from __future__ import annotations

import json
from typing import Any

from faults import add_fault, clear_faults, list_faults
from harness import Server, status, versions, wait_ready, wait_status, wait_versions

GUESTS = "w3-hotel-guests"
ROOMS = "w3-hotel-rooms"


def person(n: int, first: str = "Ada") -> dict[str, Any]:
    return {"id": f"g-{n}", "firstName": first, "lastName": "Okafor", "notes": "x" * 120}


def cut_hits(server: Server) -> int:
    return sum(rule["hits"] for rule in list_faults(server.url))


def test_a_start_whose_read_of_a_changed_key_is_cut_off_says_so_and_records_the_change_later(
        page: Any, fault_server: Server) -> None:
    people = [person(n) for n in range(3000)]  # about 500 KB
    fault_server.kv_set(GUESTS, people)
    page.goto(fault_server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    page.goto("about:blank")
    people[2990] = person(2990, "Bob")  # changed while no page was open
    fault_server.kv_set(GUESTS, people)
    add_fault(fault_server.url, method="GET", path=f"/_spark/kv/{GUESTS}", action="cut", bytes=200_000)
    page.goto(fault_server.url + "/")
    seen = wait_status(page, lambda s: "did not answer" in s["lastError"], "the cut-off read reported")
    assert cut_hits(fault_server) >= 1
    assert len(versions(page)) == 1, json.dumps(seen)  # nothing recorded from half a value
    clear_faults(fault_server.url)
    found = wait_versions(page, 2, timeout_s=60)
    detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("update", "g-2990")]
    wait_status(page, lambda s: s["lastError"] == "", "the error cleared")
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True
    page.wait_for_timeout(500)
    assert len(versions(page)) == 2


def test_a_first_start_whose_reads_are_cut_off_records_no_half_baseline(page: Any,
                                                                       fault_server: Server) -> None:
    people = [person(n) for n in range(1500)]  # a module the browser tiles (tiling.mjs):
    fault_server.kv_set_text(GUESTS, json.dumps(people, separators=(",", ":")))  # as it writes it
    fault_server.kv_set(ROOMS, [{"id": "r1", "floor": 1}])
    add_fault(fault_server.url, method="GET", path=f"/_spark/kv/{GUESTS}", action="cut", bytes=50_000)
    page.goto(fault_server.url + "/")
    seen = wait_status(page, lambda s: "did not answer" in s["lastError"], "the cut-off baseline reported")
    assert seen["headVersionId"] is None, json.dumps(seen)
    clear_faults(fault_server.url)
    wait_ready(page)
    found = wait_versions(page, 1, timeout_s=60)
    assert len(found) == 1
    assert sorted(found[0]["modules"]) == [GUESTS, ROOMS]
    assert status(page)["baselineTiled"] == [GUESTS]
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True
    people[7] = person(7, "Grace")
    page.evaluate("([key, value]) => window.spark.kv.set(key, value)", [GUESTS, people])
    found = wait_versions(page, 2)
    detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("update", "g-7")]
