"""verify: check the stored history and report every problem precisely (like ``restic check``).

Quick (structure): the head pointer, every version's metadata, parent links and chain links,
presence of payloads and snapshot blobs, orphans, head values against the head pointer.
Full: also reads every payload and blob (hashes, decoding), replays the whole history checking
every version's state hash and every inverse patch (app.core.history.verify_replay), and
hashes the head values. A value the browser lost from the disk (every read of it fails) is one
finding (``*-lost``), and the check goes on without it.
"""

from __future__ import annotations

import hashlib

from app.core.errors import CorruptData, UnknownFormatVersion
from app.core.formats.integrity import blob_text, content_hash, link, module_hash, state_hash
from app.core.formats.json_value import parse_json
from app.core.history.head import HEAD_KEY, HeadPointer
from app.core.history.head_loading import load_head
from app.core.history.payload import Payload
from app.core.history.snapshot import decode_blob
from app.core.history.verify_replay import replay
from app.core.history.verify_report import ProblemKind, VerifyReport
from app.core.history.version import Version
from app.core.ports import Collection, Compressor, DataLost, VersionStore

CHUNK = 256


async def verify_store(store: VersionStore, compressor: Compressor, *, full: bool) -> VerifyReport:
    report = VerifyReport(full)
    head = await _head(store, report)
    versions, lost = await _versions(store, report)
    report.versions = len(versions)
    ordered = sorted(versions.values(), key=lambda version: version.seq)
    chain = _structure(ordered, versions, report)
    if head is not None:
        _check_head(head, ordered, report)
    elif ordered:
        report.add("head-missing", f"meta/{HEAD_KEY}", "versions exist but no head pointer")
    payload_keys = set(await store.keys("payloads"))
    for version in ordered:
        if version.id not in payload_keys:
            report.add("missing-payload", f"payloads/{version.id}", "payload is missing")
    # A version whose record the disk lost is reported once (metadata-lost), not as orphans.
    for orphan in sorted(payload_keys - versions.keys() - lost):
        report.add("orphan-payload", f"payloads/{orphan}", "payload of no version")
    blob_keys = set(await store.keys("blobs"))
    referenced: dict[str, int] = {}  # blob -> the format of a checkpoint referencing it
    for version in ordered:
        for key, hashed in (version.snapshot or {}).items():
            referenced[hashed] = version.format_version
            if hashed not in blob_keys:
                report.add("missing-blob", f"blobs/{hashed}",
                           f"snapshot of {key!r} in checkpoint {version.id} is missing")
    for orphan in sorted(blob_keys - referenced.keys()):
        report.add("orphan-blob", f"blobs/{orphan}", "blob referenced by no checkpoint" + (
            " that can be read (a version record was lost from the disk)" if lost else ""))
    head_keys = set(await store.keys("head"))
    expected = set(head.module_hashes) if head is not None else head_keys
    if head is not None:  # a stale head text is not checked: the head version's state is it
        expected -= set(head.stale_heads)
        head_keys -= set(head.stale_heads)
    for key in sorted(expected - head_keys):
        report.add("missing-head-value", f"head/{key}", "head value is missing")
    for key in sorted(head_keys - expected):
        report.add("orphan-head-value", f"head/{key}", "head value not in the head pointer")
    if full:
        if head is not None:
            await _check_head_values(store, head, expected & head_keys, report)
        payloads = await _payloads(store, compressor, ordered, payload_keys, report)
        blobs = await _blobs(store, compressor, {
            hashed: fmt for hashed, fmt in referenced.items() if hashed in blob_keys}, report)
        replay(chain, payloads, blobs, report)
    return report


async def _head(store: VersionStore, report: VerifyReport) -> HeadPointer | None:
    try:
        return await load_head(store)
    except UnknownFormatVersion as error:
        report.add("unknown-format", f"meta/{HEAD_KEY}", str(error))
    except CorruptData as error:
        report.add("head-unreadable", f"meta/{HEAD_KEY}", str(error))
    except DataLost as error:  # a version after its stored records (format 4) is lost
        report.add("head-unreadable", f"meta/{HEAD_KEY}",
                   f"the head pointer cannot be read: {error} (see metadata-lost)")
    return None


_LOST: dict[Collection, ProblemKind] = {
    "versions": "metadata-lost", "payloads": "payload-lost", "blobs": "blob-lost"}


async def _readable(store: VersionStore, collection: Collection, keys: list[str],
                    report: VerifyReport) -> tuple[dict[str, bytes], set[str]]:
    """The values of ``keys`` that can be read, and the keys the disk lost (its file is gone
    or damaged: every read fails); each lost one is reported, and the check goes on without it."""
    try:
        return await store.get_many(collection, keys), set()
    except DataLost:
        pass
    found: dict[str, bytes] = {}
    lost: set[str] = set()
    for key in keys:
        try:
            value = await store.get(collection, key)
        except DataLost:
            report.add(_LOST[collection], f"{collection}/{key}",
                       "lost from this browser's disk (its file is gone or damaged): it cannot be read")
            lost.add(key)
            continue
        if value is not None:
            found[key] = value
    return found, lost


async def _versions(store: VersionStore, report: VerifyReport) -> tuple[dict[str, Version], set[str]]:
    """The versions that can be read, by id, and the ids whose record the disk lost."""
    ids = await store.keys("versions")
    versions: dict[str, Version] = {}
    lost: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        stored, gone = await _readable(store, "versions", ids[start:start + CHUNK], report)
        lost |= gone
        for version_id, data in stored.items():
            try:
                version = Version.decode(data)
            except UnknownFormatVersion as error:
                report.add("unknown-format", f"versions/{version_id}", str(error))
                continue
            except CorruptData as error:
                report.add("metadata-unreadable", f"versions/{version_id}", str(error))
                continue
            if version.id != version_id:
                report.add("metadata-unreadable", f"versions/{version_id}",
                           f"holds the metadata of version {version.id}")
                continue
            versions[version_id] = version
    return versions, lost


def _structure(
    ordered: list[Version], versions: dict[str, Version], report: VerifyReport
) -> list[Version]:
    """Check parents, links and checkpoints; return the chain from the root (the replay order)."""
    children: dict[str, list[str]] = {}
    roots: list[Version] = []
    for version in ordered:
        subject = f"versions/{version.id}"
        parent = versions.get(version.parent_id) if version.parent_id is not None else None
        if version.parent_id is None:
            roots.append(version)
            expected = link(None, None, version.id, version.state_hash)
        elif parent is None:
            report.add("missing-parent", subject,
                       f"parent {version.parent_id} is missing (a gap in the chain)")
            continue
        else:
            children.setdefault(parent.id, []).append(version.id)
            if parent.seq >= version.seq or parent.timestamp > version.timestamp:
                report.add("sequence", subject, f"does not come after its parent {parent.id}")
            expected = link(parent.id, parent.state_hash, version.id, version.state_hash)
        if version.link != expected:
            report.add("broken-link", subject, "link does not match the parent's and own state")
        if version.snapshot is not None and state_hash(version.snapshot) != version.state_hash:
            report.add("snapshot-mismatch", subject, "snapshot does not hash to the stateHash")
    for extra in roots[1:]:
        report.add("extra-root", f"versions/{extra.id}", "a second version without parent")
    if roots and not roots[0].is_checkpoint:
        report.add("root-not-checkpoint", f"versions/{roots[0].id}",
                   "the oldest version must be a checkpoint")
    for parent_id, kids in children.items():
        if len(kids) > 1:
            report.add("fork", f"versions/{parent_id}", f"has several children: {kids}")
    chain: list[Version] = []
    current = roots[0] if roots else None
    while current is not None:
        chain.append(current)
        kids = children.get(current.id, [])
        current = versions[kids[0]] if kids else None
    return chain


def _check_head(head: HeadPointer, ordered: list[Version], report: VerifyReport) -> None:
    subject = f"meta/{HEAD_KEY}"
    newest = ordered[-1] if ordered else None
    if (newest.id if newest else None) != head.version_id:
        report.add("head-mismatch", subject,
                   f"points at {head.version_id}, newest version is {newest.id if newest else None}")
    elif newest is not None and newest.state_hash != head.state_hash:
        report.add("head-mismatch", subject, "head state differs from the newest version's state")


async def _check_head_values(
    store: VersionStore, head: HeadPointer, keys: set[str], report: VerifyReport
) -> None:
    for key in sorted(keys):
        try:
            stored = await store.get("head", key)
        except DataLost:
            report.add("head-value-lost", f"head/{key}",
                       "its file is gone from the disk (the engine rebuilds it from the history)")
            continue
        try:
            hashed = module_hash(parse_json(stored or b"", format_version=head.format_version),
                                 head.format_version)
        except (ValueError, UnicodeDecodeError) as error:
            report.add("head-value-mismatch", f"head/{key}", f"not JSON: {error}")
            continue
        if hashed != head.module_hashes[key]:
            report.add("head-value-mismatch", f"head/{key}", "does not hash to the head pointer's")
        named = head.head_texts.get(key)
        if named is not None and named != (hashlib.sha256(stored or b"").hexdigest(), len(stored or b"")):
            report.add("head-value-mismatch", f"head/{key}",
                       "is not the bytes the head pointer's headText names")


async def _payloads(
    store: VersionStore, compressor: Compressor, ordered: list[Version], present: set[str],
    report: VerifyReport,
) -> dict[str, Payload]:
    payloads: dict[str, Payload] = {}
    ids = [version.id for version in ordered if version.id in present]
    by_id = {version.id: version for version in ordered}
    for start in range(0, len(ids), CHUNK):
        stored, _ = await _readable(store, "payloads", ids[start:start + CHUNK], report)
        for version_id, data in stored.items():
            subject = f"payloads/{version_id}"
            if content_hash(data) != by_id[version_id].payload_hash:
                report.add("payload-hash-mismatch", subject, "stored bytes do not match payloadHash")
                continue
            try:
                payload = Payload.decode(data, compressor)
            except (CorruptData, UnknownFormatVersion) as error:
                report.add("unreadable-payload", subject, str(error))
                continue
            if by_id[version_id].parent_id is not None and (
                payload.forward is None or payload.inverse is None
            ):
                report.add("unreadable-payload", subject, "a version with a parent lacks patches")
                continue
            payloads[version_id] = payload
    return payloads


async def _blobs(
    store: VersionStore, compressor: Compressor, hashes: dict[str, int], report: VerifyReport
) -> dict[str, bytes]:
    """The canonical text of every readable blob, by hash (``hashes``: hash -> format)."""
    blobs: dict[str, bytes] = {}
    ordered = sorted(hashes)
    for start in range(0, len(ordered), CHUNK):
        stored, _ = await _readable(store, "blobs", ordered[start:start + CHUNK], report)
        for hashed, data in stored.items():
            try:
                fmt = hashes[hashed]
                blobs[hashed] = blob_text(decode_blob(data, compressor, hashed, fmt), fmt)
            except CorruptData as error:
                report.add("corrupt-blob", f"blobs/{hashed}", str(error))
    return blobs
