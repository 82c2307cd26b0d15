"""Server figures for one large write, against the real server (not a test).

  python -m bench.bench_server [--mb 200] [--baseline REV]

Starts `python -m app.server` on a fresh data directory, then POSTs a guests array of --mb MB
(records like the sample hotel's) and reports: the write time; the server's peak resident
memory during the write over its idle resident memory, as a multiple of the value's size (from
/proc/<pid>/status: VmHWM, reset before the write through /proc/<pid>/clear_refs, against
VmRSS); and the latency of small requests (GET /_spark/kv/<small key> and GET /_spark/user,
alternately, one every ~20 ms from another thread) answered while the write runs (p50, max).
--baseline REV: the same figures for the server of git revision REV (its app/ is extracted with
`git archive` into a temporary folder and run from there), printed above ours.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.sample.dice import Dice
from app.sample.guests import make_guest

ROOT = Path(__file__).resolve().parent.parent
BANNER = "Backstay is running at "
BIG, SMALL = "w3-hotel-guests", "w3-hotel-settings"
TARGET_MEMORY_X, TARGET_LATENCY_MS = 2.0, 100.0


def guests_value(megabytes: float) -> bytes:
    """A guests array of about `megabytes` MB: sample-hotel guests, renumbered as needed."""
    dice = Dice("bench-server")
    pool = [make_guest(dice, "", 1_767_225_600_000 + n, 1_767_225_600_000 + n) for n in range(5_000)]
    target, size, parts = int(megabytes * 1_000_000), 0, list[str]()
    while size < target:
        record = dict(pool[len(parts) % len(pool)], id=f"gst-{len(parts) + 1:07d}")
        text = json.dumps(record, ensure_ascii=False)
        parts.append(text)
        size += len(text.encode()) + 2
    return ("[" + ", ".join(parts) + "]").encode()


@dataclass
class Figures:
    label: str
    write_s: float
    memory_x: float
    probes: list[float]


class Server:
    """`python -m app.server` run from `root` in a subprocess, on a free port."""

    def __init__(self, root: Path, data: Path) -> None:
        env = {**os.environ, "BACKSTAY_PORT": "0", "BACKSTAY_DATA": str(data)}
        env.pop("BACKSTAY_FAULTS", None)
        self.process = subprocess.Popen([sys.executable, "-m", "app.server"], cwd=root, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if BANNER in line:
                self.url = line.split(BANNER, 1)[1].split()[0].rstrip("/")
                break
        else:
            raise SystemExit("the server did not start")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()  # keep the pipe drained

    def memory_kib(self, field: str) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith(field + ":"))
        return int(line.split()[1])

    def reset_peak(self) -> bool:
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def stop(self) -> None:
        self.process.send_signal(2)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def measure(label: str, root: Path, value: bytes, interval_s: float) -> Figures:
    with tempfile.TemporaryDirectory(prefix="bench-server-") as data:
        server = Server(root, Path(data))
        try:
            with httpx.Client(base_url=server.url, timeout=600) as http:
                http.post(f"/_spark/kv/{SMALL}", content=b'{"currency": "LKR"}').raise_for_status()
                http.post(f"/_spark/kv/{BIG}", content=guests_value(1)).raise_for_status()  # warm up
                http.get(f"/_spark/kv/{BIG}").raise_for_status()
                idle = server.memory_kib("VmRSS")
                if not server.reset_peak():
                    print("  (cannot reset VmHWM: the peak may include the start-up)")
                probes: list[float] = []
                writing = threading.Event()
                writing.set()
                prober = threading.Thread(target=_probe, args=(server.url, writing, interval_s, probes))
                prober.start()
                started = time.perf_counter()
                http.post(f"/_spark/kv/{BIG}", content=_pieces(value),
                          headers={"Content-Length": str(len(value))}).raise_for_status()
                write_s = time.perf_counter() - started
                writing.clear()
                prober.join()
                peak = server.memory_kib("VmHWM")
                if http.get(f"/_spark/kv/{BIG}").content != value:
                    raise SystemExit(f"{label}: the value read back differs from the one written")
        finally:
            server.stop()
    return Figures(label, write_s, (peak - idle) * 1024 / len(value), probes)


def _pieces(value: bytes, size: int = 1 << 20) -> Iterator[bytes]:
    """The value in 1 MiB pieces: httpx sends one `bytes` body by re-slicing what is left after
    each send(), copying it with the GIL held, which would delay this process's own probes."""
    view = memoryview(value)
    for start in range(0, len(view), size):
        yield bytes(view[start : start + size])


def _probe(url: str, writing: threading.Event, interval_s: float, probes: list[float]) -> None:
    paths = [f"/_spark/kv/{SMALL}", "/_spark/user"]
    with httpx.Client(base_url=url, timeout=600) as http:
        while writing.is_set():
            began = time.perf_counter()
            http.get(paths[len(probes) % 2]).raise_for_status()
            if writing.is_set():
                probes.append((time.perf_counter() - began) * 1000)
            time.sleep(max(0.0, interval_s - (time.perf_counter() - began)))


def baseline_root(revision: str, into: Path) -> Path:
    """The app/ folder of git `revision`, extracted into `into`."""
    archive = subprocess.run(["git", "archive", revision, "app"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200, help="size of the value written (MB, default 200)")
    parser.add_argument("--baseline", metavar="REV", help="also measure the server of this git revision")
    parser.add_argument("--interval-ms", type=float, default=20, help="time between small requests")
    args = parser.parse_args()
    value = guests_value(args.mb)
    print(f"value: a guests array of {len(value) / 1e6:.1f} MB; small GETs every {args.interval_ms:.0f} ms "
          f"during the write\n")
    print(f"{'server':24} {'write s':>8} {'MB/s':>6} | {'peak over idle':>14} | "
          f"{'probes':>6} {'p50 ms':>7} {'max ms':>8}")
    print("-" * 86)
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as folder:
        servers = [("this tree", ROOT)]
        if args.baseline:
            servers.insert(0, (f"baseline {args.baseline}", baseline_root(args.baseline, Path(folder))))
        for label, root in servers:
            figures = measure(label, root, value, args.interval_ms / 1000)
            results.append(figures)
            probes = figures.probes or [float("nan")]
            print(f"{label:24} {figures.write_s:>8.2f} {len(value) / 1e6 / figures.write_s:>6.0f} | "
                  f"{figures.memory_x:>13.2f}x | {len(figures.probes):>6} "
                  f"{statistics.median(probes):>7.1f} {max(probes):>8.1f}")
    ours = results[-1]
    worst = max(ours.probes, default=float("nan"))
    print(f"\nthis tree: peak {ours.memory_x:.2f}x the value (target <= {TARGET_MEMORY_X:.0f}x), "
          f"slowest small request {worst:.0f} ms during the write (target <= {TARGET_LATENCY_MS:.0f} ms)")


if __name__ == "__main__":
    main()
