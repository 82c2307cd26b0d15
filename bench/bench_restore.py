"""Restore on the sample hotels, as a night manager would do it: how long a preview and a
restore take, and whether the page stays responsive meanwhile.

    .venv/bin/python -m bench.bench_restore --size small|large|both

On a fresh on-disk Chromium profile per size: the hotel is written over HTTP (as the PMS writes
it), the page starts Backstay (its baseline), then 30 reservations vanish (one PMS write) and 5
bookings are made (one more). Measured, each beside the PMS's own write of the reservations key
(the work a restore of that key cannot avoid):

- preview of a merge of the reservations with the version before the loss, and of a full
  restore of every module (the preview reconstructs both states);
- the merge restore itself (30 records back, the 5 new kept), a single-record restore, and the
  undo of the merge (a full restore of the reservations to the version before it);
- the page's main thread while previewing and restoring: long tasks, and the longest gap
  between two 50 ms timer ticks (how long a click would wait);
- memory of all Chromium processes after the restores.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from playwright.sync_api import Page, sync_playwright

from app.sample import hotel
from bench.bench_browser import fresh_profile, hotel_server, memory_mib, reporter

RESERVATIONS = hotel.RESERVATIONS_KEY
LOST = 30
NEW = 5

MONITOR_JS = """() => {
  const m = window.__monitor = {gap: 0, last: performance.now(), longtask: 0, timer: null};
  m.timer = setInterval(() => {
    const now = performance.now();
    m.gap = Math.max(m.gap, now - m.last - 50);
    m.last = now;
  }, 50);
  new PerformanceObserver((list) => { for (const e of list.getEntries()) m.longtask += e.duration; })
    .observe({type: 'longtask'});
}"""
READ_MONITOR_JS = """() => { const m = window.__monitor; clearInterval(m.timer);
  return {gap: m.gap, longtask: m.longtask}; }"""


def timed(page: Page, expression: str, *args: Any) -> tuple[float, Any, dict[str, float]]:
    """Run an async expression in the page; its duration (ms), result and main-thread figures."""
    page.evaluate(MONITOR_JS)
    result = page.evaluate(f"""async (args) => {{
        const t0 = performance.now();
        const value = await ({expression});
        return [performance.now() - t0, value]; }}""", list(args))
    page.wait_for_timeout(100)
    main = page.evaluate(READ_MONITOR_JS)
    return float(result[0]), result[1], main


def wait_versions(page: Page, count: int, timeout_s: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        found = page.evaluate("() => window.backstay.listVersions()")
        if len(found) >= count:
            return list(found)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(found)} versions, expected {count}")
        page.wait_for_timeout(200)


def run_size(playwright: Any, size: str, timeout_s: float) -> str:
    say = reporter(size)
    with hotel_server(size, say) as (server, tmp, counts):
        with fresh_profile(playwright, tmp, "profile") as (context, profile):
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(timeout_s * 1000)
            page.goto(server.url + "/")
            page.wait_for_function("() => window.backstay !== undefined")
            page.evaluate("() => window.backstay.ready")
            before = wait_versions(page, 1, timeout_s)[0]["id"]
            say("the loss: 30 reservations vanish, then 5 bookings")
            _, pms_write_ms, _ = timed(page, """(async () => {
                const all = await window.spark.kv.get(args[0]);
                window.__kept = all.slice(args[1]);
                const t0 = performance.now();
                await window.spark.kv.set(args[0], window.__kept);
                return performance.now() - t0; })()""", RESERVATIONS, LOST)
            page.evaluate("""async (args) => {
                const fresh = [...Array(args[1]).keys()].map((n) => ({id: `bench-new-${n}`,
                    guestId: 'g-1', status: 'confirmed', checkIn: '2026-12-01', checkOut: '2026-12-02'}));
                await window.spark.kv.set(args[0], window.__kept.concat(fresh)); }""",
                          [RESERVATIONS, NEW])
            wait_versions(page, 3, timeout_s)
            say("previews")
            merge = {"mode": "merge", "modules": [RESERVATIONS]}
            preview_ms, preview, preview_main = timed(
                page, "window.backstay.previewRestore(args[0], args[1])", before, merge)
            full_ms, _, full_main = timed(page, "window.backstay.previewRestore(args[0])", before)
            say("restores")
            restore_ms, result, restore_main = timed(
                page, "window.backstay.restoreVersion(args[0], args[1])", before, merge)
            record_id = "bench-new-0"
            record_ms, _, _ = timed(page, """window.backstay.restoreVersion(args[0],
                {records: [{module: args[1], recordId: args[2]}]})""", before, RESERVATIONS, record_id)
            undo_target = result["version"]["parentId"]
            undo_ms, _, undo_main = timed(
                page, "window.backstay.restoreVersion(args[0], {modules: [args[1]]})",
                undo_target, RESERVATIONS)
            page.wait_for_timeout(3000)
            memory = memory_mib(profile)
    module = next(m for m in preview["modules"] if m["module"] == RESERVATIONS)
    rows = [
        ("PMS's own write of the reservations key", pms_write_ms, None),
        ("preview: merge of the reservations", preview_ms, preview_main),
        ("preview: full restore of every module", full_ms, full_main),
        ("restore: merge (30 back, 5 new kept)", restore_ms, restore_main),
        ("restore: one record", record_ms, None),
        ("undo the merge (full restore of the key)", undo_ms, undo_main),
    ]
    lines = [f"## {size} hotel: {counts.get(RESERVATIONS, 0):,} reservations, "
             f"{sum(counts.values()):,} records in {len(counts)} keys",
             f"preview found {module['created']} to bring back, {len(preview['conflicts'])} conflicts",
             "", "| work | ms | × PMS write | main thread: long tasks / longest timer gap |",
             "|---|---|---|---|"]
    for name, ms, main in rows:
        main_text = (f"{main['longtask']:.0f} ms / {main['gap']:.0f} ms" if main else "—")
        lines.append(f"| {name} | {ms:,.0f} | {ms / pms_write_ms:.1f}× | {main_text} |")
    lines.append(f"\nMemory of all Chromium processes after the restores: {memory[0]:,.0f} MiB "
                 f"({memory[1]}, {memory[2]} processes)")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="both", choices=["small", "large", "both"])
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    sizes = ["small", "large"] if args.size == "both" else [args.size]
    load = os.getloadavg()[0]
    with sync_playwright() as playwright:
        tables = [run_size(playwright, size, args.timeout) for size in sizes]
    for table in tables:
        print(table + "\n")
    print(f"Load average (1 min) before / after: {load:.2f} / {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
