"""The engine worker that read a large hotel's first baseline is replaced by a new one: its
WebAssembly memory never shrinks, so it would keep the high-water mark of reading the whole hotel
for as long as the page stays open. Real Chromium, real server, real IndexedDB."""

from __future__ import annotations

import json
import time
from typing import Any

from harness import ENGINE_TIMEOUT_MS, Server, wait_versions

GUESTS = "w3-hotel-guests"
STATUS = "async () => JSON.parse(JSON.stringify(await window.backstay.status()))"
SWAP_EDIT = """{
    const terminate = Worker.prototype.terminate;
    Worker.prototype.terminate = function () {
        const old = document.querySelector('script[type="py"][worker][name="engine"]');
        if (old && old.xworker === this && window.__edit && !window.__swapEdit) {
            window.__swapEdit = window.__edit(2);
        }
        return terminate.call(this);
    };
}"""


def test_the_worker_that_read_a_large_baseline_is_replaced_and_no_write_or_call_is_lost(
        page: Any, server: Server) -> None:
    """Once the worker that recorded the baseline has written everything, the page starts a new
    worker beside it, switches its calls (the backup panel's too) to it and stops the old one.
    Writes made before, at the very moment the old worker is stopped, and after are each recorded
    exactly; the panel, opened before, still lists every version; the history verifies in full."""
    people = [{"id": f"g-{n}", "firstName": "Ada", "lastName": "Okafor", "notes": "n" * 400}
              for n in range(40_000)]  # about 17 MB
    server.kv_set(GUESTS, people)
    # A write made the moment the old worker is stopped: no engine drains then.
    page.add_init_script(SWAP_EDIT)
    page.goto(server.url + "/")
    page.wait_for_function("() => window.backstay && window.backstay.isReady", timeout=120_000)
    wait_versions(page, 1, timeout_s=60)
    first = page.evaluate(STATUS)
    assert "baseline_ms" in first["timings"] and first["heapMiB"] >= 64, json.dumps(first)
    # The panel (the main thread's own interpreter) is open while the worker is replaced.
    page.get_by_test_id("nav-settings").click()
    page.get_by_test_id("open-backups").click()
    page.get_by_test_id("version-row").first.wait_for(timeout=ENGINE_TIMEOUT_MS)
    page.evaluate("""async () => {
        window.__people = await window.spark.kv.get('w3-hotel-guests');
        window.__edit = (n) => {
            const people = window.__people;
            people[n * 97] = {...people[n * 97], firstName: `Edit ${n}`};
            return window.spark.kv.set('w3-hotel-guests', people);
        };
    }""")
    page.evaluate("() => window.__edit(0)")
    page.evaluate("() => window.__edit(1)")
    renewed: dict[str, Any] | None = None
    deadline = time.monotonic() + 150
    while renewed is None and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        status = page.evaluate(STATUS)  # during the swap, it waits for the new worker
        if "baseline_ms" not in status["timings"]:
            renewed = status
    assert renewed is not None, f"the worker that read the baseline was not replaced: {page.evaluate(STATUS)}"
    assert renewed["drainer"] is True and renewed["renew"] is False, json.dumps(renewed)
    # It started from the history: no text read, no index built (the old one saved them first).
    assert renewed["indexes"]["built"] == 0 and renewed["heapMiB"] < first["heapMiB"], json.dumps(renewed)
    assert page.evaluate("async () => { await window.__swapEdit; return !!window.__swapEdit; }")
    page.evaluate("() => window.__edit(3)")
    written = [f"g-{n * 97}" for n in range(4)]
    found = wait_versions(page, 1 + len(written), timeout_s=90)
    changes = []
    for version in reversed(found[:len(written)]):
        detail = page.evaluate("id => window.backstay.getVersion(id)", version["id"])
        changes.append((detail["createdBy"], detail["changeType"],
                        [(c["action"], c["recordId"]) for c in detail["changes"]]))
    assert changes == [("admin", "auto", [("update", rid)]) for rid in written]  # journaled, not found later
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True
    # The panel follows the new worker.
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 5",
                           timeout=30_000)
    assert page.get_by_test_id("panel-status").inner_text() == "5 versions"
    engines = page.evaluate("""() => Array.from(document.querySelectorAll('script[type="py"][worker]'),
        (el) => el.dataset.backstayEngine || el.getAttribute('name'))""")
    assert engines == ["renewed"]


def test_while_a_second_tab_waits_for_the_lock_the_worker_is_kept_and_replaced_once_it_closes(
        context: Any, server: Server) -> None:
    """A second tab's engine waits for the engine lock: replacing the first tab's worker would
    hand the lock to it (and this tab's restores with it), so the worker is kept until that tab
    closes; then it is replaced, this tab still drains, and a write is recorded exactly."""
    people = [{"id": f"g-{n}", "firstName": "Ada", "lastName": "Okafor", "notes": "n" * 400}
              for n in range(40_000)]
    server.kv_set(GUESTS, people)
    first, second = context.new_page(), context.new_page()
    first.goto(server.url + "/")
    first.wait_for_function("() => window.backstay && window.backstay.isReady", timeout=120_000)
    wait_versions(first, 1, timeout_s=60)
    second.goto(server.url + "/")
    second.wait_for_function("() => window.backstay && window.backstay.isReady", timeout=120_000)
    assert second.evaluate(STATUS)["drainer"] is False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not first.evaluate(STATUS)["renew"]:
        first.wait_for_timeout(500)
    assert first.evaluate(STATUS)["renew"] is True, json.dumps(first.evaluate(STATUS))
    first.wait_for_timeout(12_000)  # two of the facade's status rounds
    kept = first.evaluate(STATUS)
    assert "baseline_ms" in kept["timings"] and kept["drainer"] is True, json.dumps(kept)
    # (A spare worker may already wait beside it, started before the second tab asked for the lock.)
    second.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "baseline_ms" in first.evaluate(STATUS)["timings"]:
        first.wait_for_timeout(500)
    after = first.evaluate(STATUS)
    assert "baseline_ms" not in after["timings"] and after["drainer"] is True, json.dumps(after)
    first.evaluate("""async () => {
        const people = await window.spark.kv.get('w3-hotel-guests');
        people[5] = {...people[5], firstName: 'After'};
        await window.spark.kv.set('w3-hotel-guests', people); }""")
    found = wait_versions(first, 2, timeout_s=60)
    detail = first.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("update", "g-5")]
    assert first.evaluate("() => window.backstay.verify({full: true})")["ok"] is True
