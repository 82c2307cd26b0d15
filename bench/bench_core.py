"""Core figures: our id-keyed diff against jsonpatch.make_patch, and reconstruction (not a test).

  python -m bench.bench_core [--quick]

For one guest created, updated or deleted at the start, middle and end of the guests array of
the sample hotels (small: 2,000 guests; 10k: the first 10,000 guests of the large hotel; large:
50,000), prints our diff time (best of N), operation count and stored payload bytes (ChangeLog +
forward + inverse, gzip'd as stored), next to python-json-patch make_patch's time and operation
count measured in the same run. Then records a history of N single-guest edits on the small
hotel and reconstructs versions up to N back. --quick: small and 10k only, make_patch once,
a history of 1,000 versions.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import jsonpatch

from app.core.chain import Chain
from app.core.clock import ManualClock
from app.core.diff.diff import diff_key
from app.core.formats.gzip_codec import GzipCompressor
from app.core.formats.json_value import may_hold_booleans, parse_json
from app.core.history.payload import Payload
from app.core.memory_store import MemoryStore

GUESTS = "w3-hotel-guests"
TARGET_OPS, TARGET_BYTES, TARGET_DIFF_MS, TARGET_RECONSTRUCT_MS = 3, 1024, 30.0, 500.0


def _best_ms(action: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def _edit(guests: list[dict[str, Any]], action: str, where: str) -> list[dict[str, Any]]:
    index = {"start": 0, "middle": len(guests) // 2, "end": len(guests) - 1}[where]
    edited = [dict(record) for record in guests]
    if action == "create":
        new = dict(guests[index], id="gst-bench-new", firstName="Nimal", createdAt=1_767_225_600_000)
        edited.insert(index if where != "end" else len(edited), new)
    elif action == "update":
        edited[index]["phone"] = "+94 77 123 4567"
        edited[index]["loyaltyPoints"] = int(edited[index]["loyaltyPoints"]) + 100
    else:
        del edited[index]
    return edited


def diff_table(datasets: dict[str, list[dict[str, Any]]], repeat: int, theirs_repeat: int) -> None:
    compressor = GzipCompressor()
    print(f"{'dataset':8} {'records':>7} {'edit':7} {'where':6} | {'ours ms':>8} {'ops':>4} "
          f"{'stored B':>8} | {'make_patch ms':>13} {'ops':>7} | {'time x':>7} {'ops x':>7}")
    print("-" * 101)
    worst = {"ms": 0.0, "ops": 0, "bytes": 0}
    for name, guests in datasets.items():
        old_text = json.dumps(guests)
        for action in ("create", "update", "delete"):
            for where in ("start", "middle", "end"):
                old = parse_json(old_text)
                new = parse_json(json.dumps(_edit(guests, action, where)))
                new_text = json.dumps(_edit(guests, action, where))
                strict = may_hold_booleans(old_text, new_text)  # as Chain.record decides
                delta = diff_key(GUESTS, old, new, strict_types=strict)
                ours_ms = _best_ms(lambda: diff_key(GUESTS, old, new, strict_types=strict),  # noqa: B023
                                   repeat)
                stored = len(Payload(delta.changes, delta.forward, delta.inverse).encode(compressor))
                theirs_old, theirs_new = {GUESTS: old}, {GUESTS: new}
                theirs = jsonpatch.make_patch(theirs_old, theirs_new).patch
                theirs_ms = _best_ms(lambda: jsonpatch.make_patch(theirs_old, theirs_new),  # noqa: B023
                                     theirs_repeat)
                check = jsonpatch.apply_patch(copy.deepcopy(theirs_old), delta.forward)
                if check != theirs_new:
                    raise SystemExit(f"our forward patch is wrong for {name} {action} {where}")
                ops = len(delta.forward)
                worst = {"ms": max(worst["ms"], ours_ms) if name != "large" else worst["ms"],
                         "ops": max(int(worst["ops"]), ops),
                         "bytes": max(int(worst["bytes"]), stored)}
                print(f"{name:8} {len(guests):>7} {action:7} {where:6} | {ours_ms:>8.2f} {ops:>4} "
                      f"{stored:>8} | {theirs_ms:>13.1f} {len(theirs):>7} | "
                      f"{theirs_ms / ours_ms:>6.0f}x {len(theirs) / max(ops, 1):>6.0f}x")
    print(f"\nworst single-record change: {worst['ops']} ops (target <= {TARGET_OPS}), "
          f"{worst['bytes']} B stored (target <= {TARGET_BYTES}); worst diff time on <= 10,000 "
          f"records: {worst['ms']:.1f} ms (target <= {TARGET_DIFF_MS:.0f} ms)")


async def reconstruct_table(hotel: dict[str, list[dict[str, Any]]], versions: int) -> None:
    store, clock = MemoryStore(), ManualClock(step_ms=60_000)
    counter = iter(range(10**9))
    chain = Chain(store, clock, GzipCompressor(), new_id=lambda: f"b{next(counter)}")
    await chain.open()
    await chain.record_state({key: json.dumps(value) for key, value in hotel.items()},
                             created_by="bench", snapshot=True)
    guests = [dict(record) for record in hotel[GUESTS]]
    dice = random.Random(7)
    record_ms: list[float] = []
    ids: list[str] = []
    started = time.perf_counter()
    for step in range(versions):
        index = dice.randrange(len(guests))
        guests[index] = dict(guests[index], loyaltyPoints=step, updatedAt=1_767_225_600_000 + step)
        text = json.dumps(guests)
        began = time.perf_counter()
        version = await chain.record({GUESTS: text}, created_by="bench", journal_seq=step + 1)
        record_ms.append((time.perf_counter() - began) * 1000)
        assert version is not None
        ids.append(version.id)
    built_s = time.perf_counter() - started
    payload_bytes = sum(len(value) for value in store.data["payloads"].values())
    blob_bytes = sum(len(value) for value in store.data["blobs"].values())
    print(f"\nhistory: {versions} single-guest edits on {len(guests)} guests in {built_s:.1f} s; "
          f"record() median {statistics.median(record_ms):.1f} ms, p90 "
          f"{statistics.quantiles(record_ms, n=10)[-1]:.1f} ms")
    edits = set(ids)
    meta_bytes = sum(len(value) for key, value in store.data["versions"].items() if key in edits)
    print(f"stored: payloads {payload_bytes / versions:.0f} B/version (gzip'd) + metadata "
          f"{meta_bytes / versions:.0f} B/version, "
          f"{len(store.data['blobs'])} snapshot blobs {blob_bytes / 1024:.0f} KiB, "
          f"total {store.stored_bytes() / 1024 / 1024:.1f} MiB")
    history = await chain.history()
    deltas = [len(history.since_checkpoint(version_id)) - 1 for version_id in ids]
    picks = {"oldest (N back)": ids[0], "most deltas after a checkpoint": ids[deltas.index(max(deltas))]}
    picks |= {f"random #{n}": ids[dice.randrange(len(ids))] for n in range(3)}
    print(f"{'reconstruct':32} {'versions back':>13} {'deltas applied':>14} {'ms':>8}")
    worst = 0.0
    for label, version_id in picks.items():
        began = time.perf_counter()
        state = await chain.state_at(version_id)
        elapsed = (time.perf_counter() - began) * 1000
        worst = max(worst, elapsed)
        back = len(ids) - ids.index(version_id)
        print(f"{label:32} {back:>13} {deltas[ids.index(version_id)]:>14} {elapsed:>8.1f}")
        assert len(state[GUESTS]) == len(guests)
    print(f"worst reconstruct: {worst:.0f} ms (target <= {TARGET_RECONSTRUCT_MS:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small and 10k only; 1,000 versions")
    args = parser.parse_args()
    from app.sample.hotel import generate  # lazily: the sample generator is the shell's

    small = generate("small")
    large = generate("large")[GUESTS]
    datasets = {"small": small[GUESTS], "10k": large[:10_000]}
    if not args.quick:
        datasets["large"] = large
    diff_table(datasets, repeat=5 if args.quick else 10, theirs_repeat=1 if args.quick else 3)
    asyncio.run(reconstruct_table(small, 1_000 if args.quick else 10_000))


if __name__ == "__main__":
    main()
