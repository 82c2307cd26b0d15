"""Where the bytes of a version go: Chromium's IndexedDB LevelDB log, attributed record by record.

  python -m bench.bench_storage [--size small|large] [--edits 100] [--pause 0]
  python -m bench.bench_storage [--size small|large] --long 1500 [--edits 100]   (the long run)

Loads the demo PMS on the sample hotel in a fresh on-disk profile, lets Backstay record its
baseline and settle, then makes N single-guest edits (each awaited until its version; with
--pause S, S seconds after each, as at a front desk: the engine then writes its head texts and
head pointer in each idle moment, as it does between a user's edits), and
parses the LevelDB write-ahead log (*.log) of the origin's IndexedDB before and after: every
put and delete of every write batch, by database and object store (names read from the log's
own metadata records). Prints bytes per version by destination, next to storage.estimate()'s
growth. Chromium keeps an undo log of every readwrite transaction in LevelDB (its "scopes",
in the global metadata: the old value of each record a transaction overwrites, removed once the
transaction is done); it shows here as "transaction bookkeeping".

LevelDB moves its log into sorted tables once the log reaches a few MB; if that happens during
the run the figures are not comparable and the bench says so (use fewer edits). Until then
storage.estimate() counts the whole log, transient records included; the bench also replays the
log to the records LevelDB keeps once it compacts (each key's last value), which is what a
version costs in the long run (Chromium reopens a LevelDB on its log: a restart does not
compact it). Then the floor: the same count of bare IndexedDB writes, each kind on an origin of
its own (another server of the bench's site): what Chromium charges storage.estimate() for the
least a design that keeps each version in IndexedDB writes, with a journal entry in IndexedDB
before each or in the origin private file system, and for a commit shaped as Backstay's.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import struct
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from app.core.history.head import TAIL_LIMIT
from bench import bench_browser as bb
from bench import site
from bench.bench_browser import Server
from bench.site import BLANK_PATH

BLOCK = 32768
#: The size of the journal body of the floor's writes (a small hotel's guests key is larger).
BODY_BYTES = 4096
#: Index ids of Chromium's IndexedDB key prefix: object store records, their "exists" entries, and
#: blob references.
KINDS = {1: "records", 2: "exists entries", 3: "blob references"}


def _varint(data: bytes, at: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def log_records(data: bytes) -> list[bytes]:
    """The write batches of a LevelDB log file (physical records reassembled)."""
    out: list[bytes] = []
    pending = b""
    at = 0
    while at + 7 <= len(data):
        left = BLOCK - at % BLOCK
        if left < 7:
            at += left
            continue
        _, length, kind = struct.unpack_from("<IHB", data, at)
        if kind == 0 and length == 0:
            at += left
            continue
        chunk = data[at + 7:at + 7 + length]
        at += 7 + length
        if kind == 1:
            out.append(chunk)
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        elif kind == 4:
            out.append(pending + chunk)
            pending = b""
    return out


def _prefix(key: bytes) -> tuple[int, int, int, int]:
    """(database id, object store id, index id, length of the prefix) of an IndexedDB key."""
    first = key[0]
    lengths = ((first >> 5) + 1, ((first >> 2) & 7) + 1, (first & 3) + 1)
    at = 1
    ids = []
    for length in lengths:
        ids.append(int.from_bytes(key[at:at + length], "little"))
        at += length
    return ids[0], ids[1], ids[2], at


def _utf16_with_length(data: bytes, at: int) -> tuple[str, int]:
    length, at = _varint(data, at)
    return data[at:at + 2 * length].decode("utf-16-be", errors="replace"), at + 2 * length


def names(batches: list[bytes]) -> tuple[dict[int, str], dict[tuple[int, int], str]]:
    """Database and object store names, from the metadata records in the log."""
    databases: dict[int, str] = {}
    stores: dict[tuple[int, int], str] = {}
    for key, value in _puts(batches):
        if not key:
            continue
        db, store, index, at = _prefix(key)
        if db == 0 and store == 0 and index == 0 and len(key) > at and key[at] == 201:
            try:  # DatabaseName: origin, name -> database id
                _, after = _utf16_with_length(key, at + 1)
                name, _ = _utf16_with_length(key, after)
                databases[_varint(value, 0)[0]] = name
            except IndexError:
                continue
        elif db and store == 0 and index == 0 and len(key) > at + 1 and key[at] == 50:
            try:  # ObjectStoreMetaData: object store id, field 0 (the name)
                store_id, after = _varint(key, at + 1)
                if key[after] == 0:
                    stores[(db, store_id)] = value.decode("utf-16-be", errors="replace")
            except IndexError:
                continue
    return databases, stores


def _puts(batches: list[bytes]) -> list[tuple[bytes, bytes]]:
    out = []
    for key, value, put in _operations(batches):
        if put:
            out.append((key, value))
    return out


def _operations(batches: list[bytes]) -> list[tuple[bytes, bytes, bool]]:
    out = []
    for batch in batches:
        _, count = struct.unpack_from("<QI", batch, 0)
        at = 12
        for _ in range(count):
            put = batch[at] == 1
            at += 1
            length, at = _varint(batch, at)
            key = batch[at:at + length]
            at += length
            value = b""
            if put:
                length, at = _varint(batch, at)
                value = batch[at:at + length]
                at += length
            out.append((key, value, put))
    return out


def _destination(key: bytes, databases: dict[int, str], stores: dict[tuple[int, int], str],
                 global_name: str) -> str:
    """Where a record of the log belongs: a database's object store (records, exists entries,
    blob references), a database's metadata, or the global metadata (``global_name``)."""
    db, store, index, _ = _prefix(key)
    if db == 0:
        return global_name
    if store == 0:
        return f"{databases.get(db, f'database {db}')}: metadata"
    store_name = stores.get((db, store), f"store {store}")
    return f"{databases.get(db, f'database {db}')}/{store_name}: {KINDS.get(index, 'index')}"


def attribute(directory: Path) -> tuple[Counter[str], set[str]]:
    """Bytes written to the log by destination, and the log files read."""
    batches = [batch for log in sorted(directory.glob("*.log")) for batch in log_records(log.read_bytes())]
    databases, stores = names(batches)
    totals: Counter[str] = Counter()
    totals["log framing and batch headers"] += sum(7 + 12 for _ in batches)
    for key, value, put in _operations(batches):
        size = 1 + len(key) + len(value) + 2
        if not key:
            continue
        where = _destination(key, databases, stores,
                             "transaction bookkeeping (undo log) and global metadata")
        totals[f"{where} ({'put' if put else 'delete'})"] += size
    return totals, {log.name for log in directory.glob("*.log")}


def live(directory: Path) -> Counter[str]:
    """The bytes LevelDB keeps once it has compacted the log, by destination: each key's last
    put (a key deleted last is gone, an overwritten value is dropped), key plus value, before
    the tables' own compression. The undo log's records are all deleted once their transaction
    is done, so none of them is kept."""
    batches = [batch for log in sorted(directory.glob("*.log")) for batch in log_records(log.read_bytes())]
    databases, stores = names(batches)
    last: dict[bytes, int] = {}
    for key, value, put in _operations(batches):
        if put:
            last[key] = len(key) + len(value)
        else:
            last.pop(key, None)
    totals: Counter[str] = Counter()
    for key, size in last.items():
        if not key:
            continue
        totals[_destination(key, databases, stores, "global metadata")] += size
    return totals


def _user_key(key: bytes, at: int) -> str:
    """The IndexedDB key of a record (after its prefix) when it is a string, else ""."""
    if len(key) > at and key[at] == 1:  # a string key: its length, then UTF-16
        try:
            return _utf16_with_length(key, at + 1)[0]
        except IndexError:
            return ""
    return ""


def values_put(directory: Path) -> Counter[str]:
    """The bytes of the values put in object store records (values only, not their keys), by
    "<database>/<store>"; the head pointer's records (``meta/head`` and ``meta/head/<key>``)
    apart, as "<database>/meta: head pointer"."""
    batches = [batch for log in sorted(directory.glob("*.log")) for batch in log_records(log.read_bytes())]
    databases, stores = names(batches)
    totals: Counter[str] = Counter()
    for key, value, put in _operations(batches):
        if not put or not key:
            continue
        db, store, index, at = _prefix(key)
        if not db or not store or index != 1:
            continue
        database, store_name = databases.get(db, f"database {db}"), stores.get((db, store), f"store {store}")
        user_key = _user_key(key, at)
        if store_name == "meta" and (user_key == "head" or user_key.startswith("head/")):
            store_name = "meta: head pointer"
        totals[f"{database}/{store_name}"] += len(value)
    return totals


#: The floor: what Chromium's IndexedDB charges storage.estimate() for the least any design that
#: keeps each version in IndexedDB must write, measured in the same browser (Backstay not
#: running). Each kind makes ``count`` versions; each version is one readwrite transaction
#: (durability "strict", as Backstay's commits). The sizes are Backstay's own, as measured above:
#: ``shape`` = {version, payload, pointer} bytes per version (its version record, which carries
#: what it changed of the head pointer, its payload record, and the head pointer's stored
#: records, rewritten every 32nd version: their bytes per version, on average).
#: - "one record": one record of a version's own bytes (version + payload) under a key shaped
#:   like a version id;
#: - "journaled": that, plus what capturing a write before it is sent needs - a journal entry
#:   with the body as a Blob, its outcome, and both deleted once recorded, in IndexedDB;
#: - "journaled in OPFS": the same journal entry and outcome as files of the origin private file
#:   system instead (created, written, closed, removed once recorded: their bytes are freed
#:   before the reading, so what is left is what the file system keeps of them);
#: - "commit as today, journal in OPFS": Backstay's commit as it is (a version record and a
#:   payload record; every 32nd also overwrites the pointer's two stored records), with the
#:   journal in OPFS. Against "journaled in OPFS", what keeping the payload in a record of its own
#:   costs.
FLOOR_KINDS = ("one record", "journaled", "journaled in OPFS", "commit as today, journal in OPFS")
#: How often Backstay rewrites the head pointer's stored records.
POINTER_EVERY = TAIL_LIMIT
FLOOR_JS = """async ([count, shape, bodyBytes, kinds, pointerEvery]) => {
  const open = (name, setup) => new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => setup(req.result);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const done = (tx) => new Promise((resolve, reject) => {
    tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); tx.onabort = () => reject(tx.error);
  });
  const usage = async () => (await navigator.storage.estimate()).usage;
  const random = (n) => {
    const bytes = new Uint8Array(n);
    for (let at = 0; at < n; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(n, at + 65536)));
    return bytes;
  };
  const writeFile = async (dir, name, data) => {
    const file = await dir.getFileHandle(name, { create: true });
    const writable = await file.createWritable();
    await writable.write(data);
    await writable.close();
  };
  const versionId = (i) =>
    `${Date.now()}-${String(i).padStart(9, "0")}-${String(i * 7919 % 99991).padStart(8, "0")}`;
  const opfs = await navigator.storage.getDirectory();
  const result = {};
  for (const kind of kinds) {
    const inOpfs = kind.endsWith("in OPFS");
    const db = await open(`bench-floor-${kind}`, (made) => {
      made.createObjectStore("versions");
      made.createObjectStore("payloads");
      made.createObjectStore("meta");
    });
    const journal = await open(`bench-floor-journal-${kind}`, (made) => {
      made.createObjectStore("entries", { keyPath: "seq", autoIncrement: true });
      made.createObjectStore("outcomes", { keyPath: "seq" });
    });
    const files = await opfs.getDirectoryHandle(`bench-floor-journal`, { create: true });
    const before = await usage();
    for (let i = 0; i < count; i++) {
      let seq = null;
      if (inOpfs) {
        seq = i + 1;
        await writeFile(files, `${seq}.entry`, new Blob([JSON.stringify({ key: "w3-hotel-guests",
          start: Date.now(), tab: "bench" }), random(bodyBytes)]));
        await writeFile(files, `${seq}.outcome`,
          JSON.stringify({ seq, status: "ok", httpStatus: 200, end: Date.now() }));
      } else if (kind === "journaled") {
        const tx = journal.transaction("entries", "readwrite", { durability: "strict" });
        const request = tx.objectStore("entries").add({ key: "w3-hotel-guests", start: Date.now(),
          tab: "bench", body: new Blob([random(bodyBytes)]) });
        request.onsuccess = () => { seq = request.result; };
        await done(tx);
        const outcome = journal.transaction("outcomes", "readwrite", { durability: "strict" });
        outcome.objectStore("outcomes").put({ seq, status: "ok", httpStatus: 200, end: Date.now() });
        await done(outcome);
      }
      const tx = db.transaction(["versions", "payloads", "meta"], "readwrite", { durability: "strict" });
      const id = versionId(i);
      if (kind === "commit as today, journal in OPFS") {
        tx.objectStore("versions").put(random(shape.version), id);
        tx.objectStore("payloads").put(random(shape.payload), id);
        if (i % pointerEvery === 0 && shape.pointer > 0) {
          const pointer = shape.pointer * pointerEvery;
          const half = Math.round(pointer / 2);
          tx.objectStore("meta").put(random(half), "head");
          tx.objectStore("meta").put(random(pointer - half), "key/w3-hotel-guests");
        }
      } else {
        tx.objectStore("versions").put(random(shape.version + shape.payload), id);
      }
      await done(tx);
      if (kind === "journaled") {
        const drop = journal.transaction(["entries", "outcomes"], "readwrite", { durability: "strict" });
        drop.objectStore("entries").delete(IDBKeyRange.upperBound(seq));
        drop.objectStore("outcomes").delete(IDBKeyRange.upperBound(seq));
        await done(drop);
      }
      if (inOpfs) {
        await files.removeEntry(`${seq}.entry`);
        await files.removeEntry(`${seq}.outcome`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 4500));
    result[kind] = (await usage() - before) / count;
    db.close();
    journal.close();
  }
  return result;
}"""


#: How long the long run waits at most, after each chunk, for the chunk's journal bodies to go.
BLOB_SETTLE_S = 30.0
BLOB_SLACK = 1_000_000


def _disk(profile: Path) -> tuple[int, int, int]:
    """The origin's IndexedDB on disk: LevelDB log bytes, LevelDB table bytes, blob file bytes."""
    found = list(profile.glob("Default/IndexedDB/*.indexeddb.leveldb"))
    if len(found) != 1:
        raise RuntimeError(f"expected one IndexedDB LevelDB directory, found {found}")
    blobs = sum(path.stat().st_size for path in profile.glob("Default/IndexedDB/*.indexeddb.blob/**/*")
                if path.is_file())
    return (sum(path.stat().st_size for path in found[0].glob("*.log")),
            sum(path.stat().st_size for path in found[0].glob("*.ldb")), blobs)


def long_run(page: Any, profile: Path, counts: dict[str, int], edits: int, chunk: int,
             say: Callable[[str], None]) -> None:
    """``--long N``: N single-guest edits in chunks, each chunk as fast as the PMS saves them. After
    each chunk: storage.estimate() and the files on disk, per version so far. LevelDB moves its
    log into sorted tables every few MB, dropping what was overwritten or deleted: the LevelDB
    bytes right after such a move are what the history costs in the long run. The blob files are
    journal bodies that Chromium deletes once no Blob handle refers to them any more (within some
    10 s of a burst, measured: each chunk is measured once their files are gone, or after
    BLOB_SETTLE_S)."""
    usage_before = page.evaluate(bb.STORAGE_JS)["usage"]
    versions_before = len(page.evaluate("() => window.backstay.listVersions()"))
    log_before, tables_before, blobs_start = _disk(profile)
    print(f"Storage over {edits} single-guest edits in chunks of {chunk}, fresh on-disk profile "
          f"(per version so far; LevelDB = log + tables)")
    after_moves: list[float] = []
    previous_log = log_before
    for done in range(0, edits, chunk):
        count = min(chunk, edits - done)
        say(f"edits {done + 1}-{done + count}")
        page.evaluate(bb.EDITS_JS, [bb.GUESTS, bb._indexes(count, counts[bb.GUESTS], done), True])
        page.wait_for_timeout(bb.SETTLE_MS * 2)
        # The journal bodies of the chunk are deleted within seconds of it (once no Blob handle
        # refers to them): measured once their files are back to what they were before the
        # run (give or take BLOB_SLACK), or after BLOB_SETTLE_S.
        waited = 0.0
        while _disk(profile)[2] > blobs_start + BLOB_SLACK and waited < BLOB_SETTLE_S:
            page.wait_for_timeout(1000)
            waited += 1
        usage = page.evaluate(bb.STORAGE_JS)["usage"] - usage_before
        versions = max(1, len(page.evaluate("() => window.backstay.listVersions()")) - versions_before)
        log, tables, blobs = _disk(profile)
        leveldb = (log + tables - log_before - tables_before) / versions
        moved = log < previous_log  # the log shrank: it was moved into tables
        if moved:
            after_moves.append(leveldb)
        previous_log = log
        print(f"  {versions:6,} versions: storage.estimate() {usage / versions:8,.0f} B; LevelDB "
              f"{leveldb:7,.0f} B (log {log / 1e6:4.1f} MB, tables {tables / 1e6:4.1f} MB"
              f"{', log just moved into tables' if moved else ''}); blob files {blobs / 1e6:5.1f} MB")
    if after_moves:
        print(f"  LevelDB per version right after its log was moved into tables: "
              f"{', '.join(f'{value:,.0f} B' for value in after_moves)}")
    else:
        print("  LevelDB did not move its log into tables in this run: use more --long edits.")


@contextlib.contextmanager
def blank_origin(folder: Path) -> Iterator[str]:
    """Another server of the bench's site (another port: another origin), holding no data, in
    ``folder`` (new)."""
    folder.mkdir()
    server = Server(data=folder / "data", module="bench.site_server")
    server.env = {"BENCH_SITE": str(site.build(folder / "site", server.url))}
    server.data.mkdir()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=("small", "large"), default="small")
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--pause", type=float, default=0.0, metavar="S",
                        help="seconds between edits (default: none, each as soon as the last is recorded)")
    parser.add_argument("--long", type=int, default=0, metavar="N",
                        help="instead: N edits in chunks of --edits, storage after each chunk")
    args = parser.parse_args()
    say = bb.reporter(args.size)
    with sync_playwright() as playwright, bb.hotel_server(args.size, say) as (server, tmp, counts), \
            tempfile.TemporaryDirectory() as copies:

        def browser() -> Any:
            return bb.fresh_profile(playwright, tmp, "profile-storage")

        def opened(context: Any) -> Any:
            context.add_init_script(bb.INIT_JS)
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(server.url + "/")
            bb._loaded(page, True, 900)
            page.wait_for_timeout(bb.SETTLE_MS * 3)
            return page

        if args.long:
            with browser() as (context, profile):
                page = opened(context)
                long_run(page, profile, counts, args.long, args.edits, say)
            return 0
        say("first start (the baseline), then a reload")
        with browser() as (context, profile):
            page = opened(context)
            page.reload()
            bb._loaded(page, True, 900)
            page.wait_for_timeout(bb.SETTLE_MS * 3)
        say("the browser started again")
        with browser() as (context, profile):
            page = opened(context)
            found = list(profile.glob("Default/IndexedDB/*.indexeddb.leveldb"))
            if len(found) != 1:
                raise RuntimeError(f"expected one IndexedDB LevelDB directory, found {found}")
            before_dir, after_dir = Path(copies) / "before", Path(copies) / "after"
            shutil.copytree(found[0], before_dir)
            usage_before = page.evaluate(bb.STORAGE_JS)["usage"]
            versions_before = len(page.evaluate("() => window.backstay.listVersions()"))
            say(f"{args.edits} single-guest edits" + (f", {args.pause:g} s apart" if args.pause else ""))
            indexes = bb._indexes(args.edits, counts[bb.GUESTS], 0)
            if args.pause:
                for index in indexes:
                    page.evaluate(bb.EDITS_JS, [bb.GUESTS, [index], True])
                    page.wait_for_timeout(args.pause * 1000)
            else:
                page.evaluate(bb.EDITS_JS, [bb.GUESTS, indexes, True])
            page.wait_for_timeout(bb.SETTLE_MS * 3)
            shutil.copytree(found[0], after_dir)
            usage_after = page.evaluate(bb.STORAGE_JS)["usage"]
            versions = len(page.evaluate("() => window.backstay.listVersions()")) - versions_before
            say("the floor: the same count of bare IndexedDB writes, Backstay not running")

            grown = values_put(after_dir) - values_put(before_dir)

            def per_version(name: str) -> int:
                if grown[name] <= 0:
                    raise RuntimeError(f"no value put in {name} during the edits: {dict(grown)}")
                return round(grown[name] / max(versions, 1))

            shape = {"version": per_version("backstay/versions"), "payload": per_version("backstay/payloads"),
                     "pointer": per_version("backstay/meta: head pointer")}
            record_bytes = shape["version"] + shape["payload"]
            # Each kind on an origin of its own (storage.estimate() is per origin): Backstay's
            # log, or another kind's, merged by LevelDB meanwhile or its blob files deleted late,
            # would show in its figure.
            floor = {}
            for number, kind in enumerate(FLOOR_KINDS):
                with blank_origin(tmp / f"floor-{number}") as origin:
                    page.goto(origin + BLANK_PATH)
                    floor[kind] = page.evaluate(FLOOR_JS, [max(versions, 1), shape, BODY_BYTES, [kind],
                                                           POINTER_EVERY])[kind]
                page.goto("about:blank")
        before, before_logs = attribute(before_dir)
        after, after_logs = attribute(after_dir)
        kept_before, kept_after = live(before_dir), live(after_dir)
    paced = f" {args.pause:g} s apart" if args.pause else ""
    print(f"Where a version's bytes go — {args.size} hotel, {args.edits} single-guest edits{paced}, "
          f"{versions} versions, fresh on-disk profile")
    if not before_logs <= after_logs:
        print("LevelDB compacted its log during the run: these figures are not comparable; "
              "run with fewer --edits.")
        return 1
    growth = {name: after[name] - before[name] for name in after}
    total = sum(growth.values())
    for name, size in sorted(growth.items(), key=lambda item: -item[1]):
        if size:
            print(f"  {size / max(versions, 1):8,.0f} B/version  {name}")
    print(f"  {total / max(versions, 1):8,.0f} B/version  all of the LevelDB log")
    print(f"  {(usage_after - usage_before) / max(versions, 1):8,.0f} B/version  storage.estimate() usage "
          "(all IndexedDB files)")
    print("What LevelDB keeps of it once it compacts the log (each key's last value; overwritten "
          "values, deleted records and the undo log are dropped):")
    kept = {name: kept_after[name] - kept_before[name] for name in kept_after | kept_before}
    for name, size in sorted(kept.items(), key=lambda item: -item[1]):
        if size:
            print(f"  {size / max(versions, 1):8,.0f} B/version  {name}")
    print(f"  {sum(kept.values()) / max(versions, 1):8,.0f} B/version  kept in all")
    print("The floor, in the same browser with Backstay not running, on an origin of its own "
          f"({max(versions, 1)} versions each; a version record of {shape['version']:,} B, a payload "
          f"of {shape['payload']:,} B, pointer records of {shape['pointer']:,} B per version; journal bodies "
          f"of {BODY_BYTES:,} B), storage.estimate() usage:")
    described = {
        "one record": f"one transaction putting one record ({record_bytes:,} B: version and payload)",
        "journaled": "that, with a journal entry (the body as a Blob) and its outcome in IndexedDB, "
                     "put before and dropped after",
        "journaled in OPFS": "the same, with the journal entry and its outcome as files of the origin "
                             "private file system (OPFS)",
        "commit as today, journal in OPFS": f"Backstay's commit as it is (a version record and a "
                                            f"payload record; the pointer's records overwritten "
                                            f"once every {POINTER_EVERY} versions), the journal "
                                            f"in OPFS",
    }
    for kind in FLOOR_KINDS:
        print(f"  {floor[kind]:8,.0f} B/version  {described[kind]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
