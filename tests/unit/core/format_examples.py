"""The worked examples of docs/FORMAT.md, made by the core itself.

``.venv/bin/python -m tests.unit.core.format_examples`` prints every generated example as the
``<!-- example: name -->`` block to paste into docs/FORMAT.md; test_format_doc.py checks that the
document holds exactly these texts, and recomputes their hashes and sizes from their own content.

Format 2 examples are what the Chain writes. The format 1 examples are the store the previous
release wrote for the same two versions: built here by format 1's definitions (which the core
keeps for reading such stores: ``integrity.module_hash(value, 1)``, ``integrity.blob_text(value,
1)``), and checked by the test against the hashes that release published. The upgrade examples
are what the Chain writes when it opens that store.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from app.core.audit.entry import AuditEntry
from app.core.chain import Chain
from app.core.clock import ManualClock
from app.core.diff.changelog import Change
from app.core.diff.diff import ABSENT, diff_key
from app.core.diff.summary import describe
from app.core.formats.backup import AAD, ITERATIONS, Backup, Envelope
from app.core.formats.framing import pack
from app.core.formats.gzip_codec import GzipCompressor
from app.core.formats.integrity import blob_text, content_hash, link, module_hash, state_hash
from app.core.formats.json_value import Json, canonical_text, compact_json, parse_json
from app.core.formats.module_text import element_digest
from app.core.formats.passphrase import CHECK_AAD, CHECK_TEXT, PassphraseRecord
from app.core.history.head import HEAD_KEY, KEY_PREFIX, HeadPointer
from app.core.history.head_loading import load_head
from app.core.history.payload import Payload
from app.core.history.version import Version
from app.core.history.version_id import make_version_id
from app.core.memory_store import MemoryStore
from app.core.restore.pending import PendingRestore, text_hash
from app.core.restore.request import RestoreRequest
from app.core.restore.sides import describe_restore
from tests.conftest import build_chain

GUESTS = "w3-hotel-guests"
SETTINGS = "w3-hotel-settings"
EPOCH = "6c1f7a52-2d8e-4b0a-9f31-8e5d2c7b4a10"
#: What app.browser.live_state.LiveState.record writes as the baseline's description.
BASELINE_DESCRIPTION = "Baseline: the {count} keys of the store when Backstay first started"
#: The baseline's reads of the live store (the head pointer's liveReads).
LIVE_READS = {GUESTS: (1_699_999_999_400, 1_699_999_999_431),
              SETTINGS: (1_699_999_999_400, 1_699_999_999_420)}
BASELINE_MS = 1_700_000_000_000
DELTA_MS = 1_700_000_001_000
#: When the example restore started.
RESTORE_MS = 1_700_000_002_500
#: The journal entry the delta was drained from.
DELTA_JOURNAL_SEQ = 12

GUEST: dict[str, Json] = {"id": "gst-000001", "firstName": "Tharindu", "lastName": "Perera",
                          "phone": "+94 77 000 0001"}
EDITED: dict[str, Json] = {**GUEST, "phone": "+94 77 123 4567"}
NIMAL: dict[str, Json] = {"id": "gst-000002", "firstName": "Nimal"}
ANIL: dict[str, Json] = {"id": "gst-000003", "firstName": "Anil"}
BASELINE_STATE: dict[str, Json] = {GUESTS: [GUEST], SETTINGS: {"currency": "LKR"}}

#: Number tokens as a client may write them (the input of the example "numbers-canonical").
NUMBER_TOKENS = (
    "150.0", "-0.0", "1e15", "9007199254740993", "9007199254740993.0", "9007199254740994",
    "12345678901234567891", "12345678901234567891.0", "12345678901234567000", "1e16", "1e20",
    "100000000000000000000", "1e21", "1000000000000000000000", "0.1", "0.0001", "1e-5",
    "0.000001", "1e-7", "2.5e-10", "-1.5e300", "5e-324", "1e-400", "1e400",
)
NUMBERS_WRITTEN = "[" + ", ".join(NUMBER_TOKENS) + "]"

#: A module as a client wrote it, with values no double or UTF-8 holds (example "unusual").
UNUSUAL_WRITTEN = ('[{"id": "g7", "name": "Zo\\uD83D", "spent": 1E400, "debt": -12.5e399,'
                   ' "tiny": 1e-400,\n  "big": 123456789012345678901234567890,'
                   ' "emoji": "\\ud83d\\ude00"}]')

#: The example "respelled": a head text, and a text of the same value written otherwise.
RESPELLED_HEAD = '{"currency":"LKR","cap":1000000000000000000000,"vat":[8,18]}'
RESPELLED_WRITTEN = '{ "currency": "LKR", "cap": 1e21, "vat": [ 8.0, 1.8e1 ] }'

#: Diffs of one KV key: (key, old value, new value); None is a key absent from the state
#: (its example then has no "old" or "new" member). The writer records each as diff.diff_key
#: makes it ("window-positional": only records with unique ids changed, but the array is not a
#: record array, so it is diffed by position).
DIFF_CASES: dict[str, tuple[str, Json, Json]] = {
    "create-and-update": (GUESTS, [GUEST], [EDITED, NIMAL]),
    "reorder-and-edit": ("w3-hotel-rooms",
                         [{"id": "101", "status": "clean"}, {"id": "102", "status": "clean"},
                          {"id": "103", "status": "clean"}],
                         [{"id": "103", "status": "clean"}, {"id": "101", "status": "clean"},
                          {"id": "102", "status": "dirty"}]),
    "reorder-only": ("w3-hotel-rooms", [{"id": "101"}, {"id": "102"}], [{"id": "102"}, {"id": "101"}]),
    "nested-fields": (GUESTS,
                      [{"id": "g1", "address": {"city": "Kandy", "zip": "20000"}, "tags": ["vip"],
                        "stays": [{"id": "s1", "nights": 2}, {"id": "s2", "nights": 1}]}],
                      [{"id": "g1", "address": {"city": "Galle", "zip": "20000"},
                        "tags": ["vip", "late"], "stays": [{"id": "s2", "nights": 3}], "notes": ""}]),
    "field-added": (GUESTS, [{"id": "g1", "phone": "1"}], [{"id": "g1", "phone": "1", "email": "a@b.lk"}]),
    "field-removed": (GUESTS, [{"id": "g1", "email": "a@b.lk", "phone": "1"}],
                      [{"id": "g1", "phone": "1"}]),
    "field-inserted": (GUESTS, [{"id": "g1", "firstName": "Ada", "phone": "1"}],
                       [{"id": "g1", "firstName": "Ada", "lastName": "King", "phone": "1"}]),
    "members-reordered": (SETTINGS, {"currency": "LKR", "tax": {"vat": 8}},
                          {"tax": {"vat": 8}, "currency": "LKR"}),
    "positional": ("w3-hotel-tasks",
                   [{"id": "a", "n": 1}, {"id": "b", "n": 2}, {"id": "b", "n": 3}],
                   [{"id": "b", "n": 2}, {"id": "b", "n": 4}]),
    "window-positional": ("w3-hotel-tasks",
                          [{"title": "Checklist"}, {"id": "a", "done": False},
                           {"id": "b", "done": False}, {"id": "c", "done": False}],
                          [{"title": "Checklist"}, {"id": "b", "done": False},
                           {"id": "c", "done": False}, {"id": "d", "done": False}]),
    "numeric-ids": ("w3-hotel-tasks", [{"id": 7, "done": False}], [{"id": 7, "done": True}]),
    "object-value": (SETTINGS, {"currency": "LKR", "tax": {"vat": 8}},
                     {"currency": "LKR", "tax": {"vat": 18}}),
    "key-appears": ("w3-hotel-rooms", None, [{"id": "101"}, {"id": "102"}]),
}


def pretty(value: Any) -> str:
    """JSON with two-space indentation, non-ASCII as is (the layout of objects in FORMAT.md)."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def listing(value: dict[str, Any]) -> str:
    """An object one member per line; members that are arrays one element per line."""
    lines = ["{"]
    members = list(value.items())
    for index, (name, member) in enumerate(members):
        comma = "," if index < len(members) - 1 else ""
        if isinstance(member, list) and member:
            lines.append(f"  {json.dumps(name)}: [")
            for position, element in enumerate(member):
                tail = "," if position < len(member) - 1 else ""
                lines.append(f"    {json.dumps(element, ensure_ascii=False)}{tail}")
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {json.dumps(name)}: {json.dumps(member, ensure_ascii=False)}{comma}")
    lines.append("}")
    return "\n".join(lines)


def pms_text(value: Json) -> str:
    """A value as the PMS writes it: JSON.stringify's text, which is format 2's canonical text."""
    return canonical_text(value)


# ---- format 2: what the Chain writes ------------------------------------------------------------


class StoredAsIs(GzipCompressor):
    """A compressor whose output is never shorter than its input: framing then stores every
    payload as it is, so that the examples' sizes and payload hashes can be recomputed from the
    JSON they show. (The engine's gzips a payload of framing.COMPRESS_AT bytes or more, and its
    size and payload hash are then those of the gzip bytes.)"""

    def compress(self, data: bytes) -> bytes:
        return data


def _example_chain() -> tuple[Chain, MemoryStore, ManualClock]:
    """A Chain as the tests build it, storing every payload as it is (StoredAsIs)."""
    return build_chain(compressor=StoredAsIs())


async def _chain_examples(found: dict[str, str]) -> None:
    # A chain as the engine builds it: the journal's epoch, the baseline read from the store
    # (with the intervals of those reads), then one drained journal entry.
    chain, store, _ = _example_chain()
    await chain.open()
    await chain.start_journal(EPOCH)
    baseline = await chain.record_state(
        {key: pms_text(value) for key, value in BASELINE_STATE.items()},
        created_by="admin", snapshot=True, description=BASELINE_DESCRIPTION.format(count=2),
        live_reads=LIVE_READS,
    )
    delta = await chain.record({GUESTS: pms_text([EDITED])}, created_by="frontdesk",
                               journal_seq=DELTA_JOURNAL_SEQ)
    assert baseline is not None and delta is not None and baseline.snapshot is not None
    found["version-checkpoint"] = pretty(json.loads(baseline.encode()))
    found["payload-checkpoint"] = store.data["payloads"][baseline.id].decode("utf-8")
    for hashed in baseline.snapshot.values():
        found[f"blob {hashed}"] = store.data["blobs"][hashed].decode("utf-8")
    found["version-delta"] = pretty(json.loads(delta.encode()))
    # Both payloads are stored as plain JSON (StoredAsIs).
    found["payload-delta"] = listing(json.loads(store.data["payloads"][delta.id]))
    # The stored records name the baseline: the delta carries what it changed of the pointer.
    found["head"] = pretty(json.loads(store.data["meta"][HEAD_KEY]))
    for name, record in sorted(store.data["meta"].items()):
        if name.startswith(KEY_PREFIX):
            found[f"head-key {name[len(KEY_PREFIX):]}"] = pretty(json.loads(record))
    # The pointer after the delta as format 2 stored it (one record): what an upgrade reads.
    pointer = await load_head(store)
    assert pointer is not None and pointer.version_id == delta.id
    found["format2-head"] = pretty(replace(pointer, format_version=2).to_dict())

    # The baseline of an empty store.
    chain, store, _ = _example_chain()
    await chain.open()
    empty = await chain.record_state({}, created_by="admin", snapshot=True,
                                     description=BASELINE_DESCRIPTION.format(count=0))
    assert empty is not None
    found["version-empty-baseline"] = pretty(json.loads(empty.encode()))
    found["payload-empty-baseline"] = store.data["payloads"][empty.id].decode("utf-8")

    # A write that only respells the head's value records no version.
    chain, store, _ = _example_chain()
    await chain.open()
    await chain.record({SETTINGS: RESPELLED_HEAD}, created_by="admin", snapshot=True)
    before = HeadPointer.from_meta(store.data["meta"])
    recorded = await chain.record({SETTINGS: RESPELLED_WRITTEN}, created_by="admin")
    after = HeadPointer.from_meta(store.data["meta"])
    assert before.module_hashes == after.module_hashes
    found["respelled"] = pretty({
        "headText": RESPELLED_HEAD,
        "written": RESPELLED_WRITTEN,
        "canonicalText": canonical_text(parse_json(RESPELLED_WRITTEN)),
        "moduleHash": after.module_hashes[SETTINGS],
        "recorded": None if recorded is None else recorded.id,
        "headTextAfter": store.data["head"][SETTINGS].decode("utf-8"),
    })


async def _recorded_diff(key: str, old: Json, new: Json) -> dict[str, Any]:
    """What the Chain records for the PMS writing ``new`` over ``old`` (None: key absent)."""
    chain, store, _ = _example_chain()
    await chain.open()
    await chain.record_state({} if old is None else {key: pms_text(old)}, created_by="admin",
                             snapshot=True)
    version = await chain.record({key: None if new is None else pms_text(new)}, created_by="a")
    assert version is not None
    payload = Payload.decode(store.data["payloads"][version.id], GzipCompressor()).to_dict()
    example: dict[str, Any] = {"key": key}
    if old is not None:  # an absent key has no member
        example["old"] = old
    if new is not None:
        example["new"] = new
    return {**example, "changes": payload["changes"], "forward": payload["forward"],
            "inverse": payload["inverse"]}


def diff_example(key: str, old: Json, new: Json) -> dict[str, Any]:
    """The example object of one key's diff as diff.diff_key makes it."""
    delta = diff_key(key, ABSENT if old is None else old, ABSENT if new is None else new)
    changes: list[Change] = delta.changes
    payload = Payload(changes, delta.forward, delta.inverse).to_dict()
    example: dict[str, Any] = {"key": key}
    if old is not None:
        example["old"] = old
    if new is not None:
        example["new"] = new
    return {**example, "changes": payload["changes"], "forward": payload["forward"],
            "inverse": payload["inverse"]}


def module_hash_example(value: list[Json]) -> dict[str, Any]:
    """The format 2 module hash of an array, step by step."""
    elements = []
    hashed = hashlib.sha256(b"[")
    for element in value:
        digest, text = element_digest(element)
        elements.append({"canonicalText": text, "sha256": digest.hex()})
        hashed.update(digest)
    return {"value": value, "elements": elements, "moduleHash": hashed.hexdigest(),
            "sha256OfCanonicalText": hashlib.sha256(canonical_text(value).encode()).hexdigest()}


# ---- format 1: the same history as the previous release stored it, and its upgrade -----------


#: The format 1 release gzip'd content of this many bytes or more (framing.COMPRESS_AT then).
FORMAT1_COMPRESS_AT = 512


def format1_store(
    baseline_state: Mapping[str, Json] = BASELINE_STATE, guests: Json = None,
) -> tuple[MemoryStore, list[Version]]:
    """The baseline and delta of the format 2 examples, stored in format 1 (module hash: SHA-256
    of the sorted-key canonical JSON; blobs: that JSON), with the head pointer after the delta.

    Another baseline state, and another value ``guests`` of its guests key for the delta, make
    another format 1 store of two versions."""
    store = MemoryStore()
    data = store.data
    compressor = GzipCompressor()
    state = dict(baseline_state)
    edited: Json = [EDITED] if guests is None else guests
    hashes = {key: module_hash(value, 1) for key, value in state.items()}
    baseline_id = make_version_id(BASELINE_MS, 1, "t0000")
    payload = pack(compact_json({"formatVersion": 1, "changes": [], "forward": None,
                                 "inverse": None}), compressor, compress_at=FORMAT1_COMPRESS_AT)
    size = len(payload)
    for key, value in state.items():
        blob = pack(blob_text(value, 1), compressor, compress_at=FORMAT1_COMPRESS_AT)
        data["blobs"][hashes[key]] = blob
        size += len(blob)
    baseline_hash = state_hash(hashes)
    baseline = Version(
        id=baseline_id, seq=1, parent_id=None, timestamp=BASELINE_MS, created_by="admin",
        change_type="auto", description=BASELINE_DESCRIPTION.format(count=2),
        modules=list(state), size=size, change_count=0, kind="checkpoint",
        state_hash=baseline_hash, link=link(None, None, baseline_id, baseline_hash),
        payload_hash=content_hash(payload), snapshot=dict(hashes), format_version=1)
    data["payloads"][baseline_id] = payload
    data["versions"][baseline_id] = baseline.encode()

    delta_key = diff_key(GUESTS, state[GUESTS], edited)
    state[GUESTS] = edited
    hashes[GUESTS] = module_hash(edited, 1)
    delta_id = make_version_id(DELTA_MS, 2, "t0001")
    delta_dict = Payload(delta_key.changes, delta_key.forward, delta_key.inverse).to_dict()
    payload = pack(compact_json({**delta_dict, "formatVersion": 1}), compressor,
                   compress_at=FORMAT1_COMPRESS_AT)
    delta_hash = state_hash(hashes)
    delta = Version(
        id=delta_id, seq=2, parent_id=baseline_id, timestamp=DELTA_MS, created_by="frontdesk",
        change_type="auto", description=describe(delta_key.changes),
        modules=[GUESTS], size=len(payload), change_count=len(delta_key.changes), kind="delta",
        state_hash=delta_hash, link=link(baseline_id, baseline_hash, delta_id, delta_hash),
        payload_hash=content_hash(payload), snapshot=None, format_version=1)
    data["payloads"][delta_id] = payload
    data["versions"][delta_id] = delta.encode()
    for key, value in state.items():
        data["head"][key] = pms_text(value).encode("utf-8")
    head = HeadPointer(
        version_id=delta_id, seq=2, timestamp=DELTA_MS, journal_seq=DELTA_JOURNAL_SEQ,
        module_hashes=hashes, checkpoint_id=baseline_id, deltas_since_checkpoint=1,
        bytes_since_checkpoint=delta.size, journal_epoch=EPOCH, live_reads=dict(LIVE_READS),
        format_version=1)
    data["meta"][HEAD_KEY] = head.encode()
    return store, [baseline, delta]


async def _format1_examples(found: dict[str, str]) -> None:
    store, (baseline, delta) = format1_store()
    blobs = dict(store.data["blobs"])
    found["format1-version-checkpoint"] = pretty(json.loads(baseline.encode()))
    found["format1-payload-checkpoint"] = store.data["payloads"][baseline.id].decode("utf-8")
    for hashed, blob in blobs.items():
        found[f"format1-blob {hashed}"] = blob.decode("utf-8")
    found["format1-version-delta"] = pretty(json.loads(delta.encode()))
    found["format1-payload-delta"] = listing(json.loads(store.data["payloads"][delta.id]))
    found["format1-head"] = pretty(json.loads(store.data["meta"][HEAD_KEY]))

    # The next release opens the store: it upgrades it in place.
    chain = Chain(store, ManualClock(start_ms=DELTA_MS + 60_000), GzipCompressor(),
                  new_id=lambda: "t0002")
    await chain.open()
    upgrade = (await chain.list_versions())[0]
    assert upgrade.snapshot is not None and upgrade.change_type == "upgrade"
    found["upgrade-version"] = pretty(json.loads(upgrade.encode()))
    found["upgrade-payload"] = store.data["payloads"][upgrade.id].decode("utf-8")
    for hashed, blob in store.data["blobs"].items():
        if hashed not in blobs:
            found[f"upgrade-blob {hashed}"] = blob.decode("utf-8")
    found["upgrade-head"] = pretty(json.loads(store.data["meta"][HEAD_KEY]))
    for name, record in sorted(store.data["meta"].items()):
        if name.startswith(KEY_PREFIX):
            found[f"upgrade-head-key {name[len(KEY_PREFIX):]}"] = pretty(json.loads(record))


async def _diff_examples(found: dict[str, str]) -> None:
    for name, (key, old, new) in DIFF_CASES.items():
        found[f"diff {name}"] = listing(await _recorded_diff(key, old, new))


async def _restore_examples(found: dict[str, str]) -> None:
    """A restore of one record, the preview of a merge with its conflict, the pending mark and
    the audit entry of that restore."""
    chain, _, _ = _example_chain()
    await chain.open()
    baseline = await chain.record_state(
        {GUESTS: pms_text([GUEST, ANIL]), SETTINGS: pms_text({"currency": "LKR"})},
        created_by="admin", snapshot=True, description="Baseline")
    assert baseline is not None
    await chain.record({GUESTS: pms_text([EDITED, NIMAL])}, created_by="frontdesk")
    merge = await chain.plan_restore(RestoreRequest.parse(baseline.id, {"mode": "merge"}))
    found["restore-preview"] = pretty(merge.to_dict())
    request = RestoreRequest.parse(baseline.id, {"records": [
        {"module": GUESTS, "recordId": GUEST["id"]}]})
    plan = await chain.plan_restore(request)
    texts = plan.texts()
    before = {key: await chain.head_text(key) for key in texts}
    details = plan.details()
    pending = PendingRestore(f"{RESTORE_MS:013d}-5e1d2c3b", RESTORE_MS, "admin",
                             describe_restore(plan),
                             {key: (text_hash(before[key]), text_hash(texts[key])) for key in texts},
                             details)
    found["restore-pending"] = pretty(json.loads(pending.encode()))
    version = await chain.record_restore(plan, created_by="admin")
    assert version is not None
    found["restore-version"] = pretty(json.loads(version.encode()))
    entry = AuditEntry(f"{RESTORE_MS + 40:013d}-0a1b2c3d", RESTORE_MS + 40, "admin", "restore",
                       "done", describe_restore(plan), {**details, "versionId": version.id}).chained("")
    found["audit-entry"] = pretty(entry.to_dict())


#: The example backup's passphrase, salt and IV (a real export draws salt and IV at random).
BACKUP_PASSPHRASE = "correct horse battery staple"
BACKUP_SALT = bytes(range(16))
BACKUP_IV = bytes(range(100, 112))
BACKUP_MS = 1_700_000_003_000


def seal_example(plaintext: bytes, salt: bytes = BACKUP_SALT, iv: bytes = BACKUP_IV,
                 passphrase: str = BACKUP_PASSPHRASE, iterations: int = ITERATIONS,
                 aad: bytes = AAD) -> bytes:
    """AES-256-GCM under PBKDF2-SHA-256, as FORMAT.md says (what WebCrypto does in the browser)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    key = PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(passphrase.encode("utf-8"))
    return AESGCM(key).encrypt(iv, plaintext, aad)


async def _backup_examples(found: dict[str, str]) -> None:
    """The backup of the delta's state above, plain and sealed."""
    state = {GUESTS: [EDITED], SETTINGS: {"currency": "LKR"}}
    delta_id = make_version_id(DELTA_MS, 2, "t0001")
    hashes = {key: module_hash(value) for key, value in state.items()}
    backup = Backup(state, created_at=BACKUP_MS, created_by="admin", device="Chrome on Linux · 3f2a",
                    source={"versionId": delta_id, "seq": 2, "timestamp": DELTA_MS,
                            "stateHash": state_hash(hashes)},
                    description="Backup of version 2 (Updated guest Tharindu Perera (phone))")
    file = backup.encode()
    found["backup-file"] = file.decode("utf-8").rstrip("\n")
    sealed = Envelope(BACKUP_SALT, BACKUP_IV, seal_example(GzipCompressor().compress(file)))
    found["backup-sealed"] = sealed.encode().decode("ascii").rstrip("\n")
    check_iv = bytes(range(200, 212))
    record = PassphraseRecord(BACKUP_SALT, ITERATIONS, check_iv, seal_example(
        CHECK_TEXT, iv=check_iv, aad=CHECK_AAD), BACKUP_MS, "admin")
    found["passphrase-record"] = record.encode().decode("ascii")


async def _all(found: dict[str, str]) -> None:
    await _backup_examples(found)
    await _restore_examples(found)
    await _chain_examples(found)
    await _format1_examples(found)
    await _diff_examples(found)


def generated() -> dict[str, str]:
    """Every example of FORMAT.md that the core makes: name -> the text of its block."""
    found: dict[str, str] = {}
    # In a thread of its own: the caller's thread may already run an event loop (Playwright's).
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _all(found)).result()
    found["numbers-written"] = NUMBERS_WRITTEN
    found["numbers-canonical"] = canonical_text(parse_json(NUMBERS_WRITTEN))
    found["unusual-written"] = UNUSUAL_WRITTEN
    found["unusual-canonical"] = canonical_text(parse_json(UNUSUAL_WRITTEN))
    found["module-hash"] = listing(module_hash_example([EDITED, NIMAL]))
    return found


def main() -> None:
    for name, text in generated().items():
        print(f"<!-- example: {name} -->\n```json\n{text}\n```\n")


if __name__ == "__main__":
    main()
