"""Browser figures, measured in Debian's Chromium against the real server (not a test).

  python -m bench.bench_browser [--size small|large] [--writes 20]

Prints: cold page load → engine ready (fresh profile, empty IndexedDB, so it includes the
baseline of the loaded hotel), warm reload → engine ready, and the time from a write (one guest
edited through window.spark.kv.set, the whole guests array sent, as the PMS does) to its version
being committed and announced (median, p90 and max of N writes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from harness import CHROMIUM, CHROMIUM_ARGS, Server  # noqa: E402

from app.sample import hotel  # noqa: E402

WRITE_TO_VERSION_JS = """
async ([index]) => {
  const guests = await window.spark.kv.get('w3-hotel-guests');
  guests[index] = {...guests[index], lastName: guests[index].lastName + '*', updatedAt: Date.now()};
  const committed = new Promise((resolve) => {
    const off = window.backstay.onVersion((version) => { off(); resolve(version); });
  });
  const started = performance.now();
  await window.spark.kv.set('w3-hotel-guests', guests);
  const sent = performance.now();
  await committed;
  return [performance.now() - started, sent - started];
}
"""


def seed(server: Server, size: str) -> int:
    data = hotel.generate(size)
    for key, value in data.items():
        body = json.dumps(value).encode()
        request = urllib.request.Request(f"{server.url}/_spark/kv/{key}", data=body, method="POST")
        urllib.request.urlopen(request).read()
    return len(data.get("w3-hotel-guests", []))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="small", choices=["small", "large"])
    parser.add_argument("--writes", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(data=Path(tmp) / "data")
        server.data.mkdir()
        server.start()
        try:
            guests = seed(server, args.size)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_context().new_page()
                started = time.perf_counter()
                page.goto(server.url + "/")
                page.wait_for_function("() => window.backstay && window.backstay.isReady", timeout=300_000)
                cold = time.perf_counter() - started
                started = time.perf_counter()
                page.reload()
                page.wait_for_function("() => window.backstay && window.backstay.isReady", timeout=300_000)
                warm = time.perf_counter() - started
                page.wait_for_function("() => window.spark && window.spark.kv")
                latencies, sends = [], []
                for n in range(args.writes):
                    total, sent = page.evaluate(WRITE_TO_VERSION_JS, [(n * 97) % guests])
                    latencies.append(total)
                    sends.append(sent)
                browser.close()
        finally:
            server.stop()
    latencies.sort()
    print(f"Backstay in Chromium — {args.size} hotel ({guests} guests)")
    print(f"{'figure':<48}{'value':>12}")
    print(f"{'cold load → engine ready (incl. baseline)':<48}{cold * 1000:>10.0f} ms")
    print(f"{'warm reload → engine ready':<48}{warm * 1000:>10.0f} ms")
    median_label = f"write → version committed, median of {args.writes}"
    print(f"{median_label:<48}{statistics.median(latencies):>10.0f} ms")
    print(f"{'write → version committed, p90':<48}{latencies[int(len(latencies) * 0.9) - 1]:>10.0f} ms")
    print(f"{'write → version committed, max':<48}{latencies[-1]:>10.0f} ms")
    print(f"{'  of which the HTTP write itself, median':<48}{statistics.median(sends):>10.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
