"""verify's replay: the whole history from the oldest version, each version by its own format,
checking each state hash and each inverse patch (a full verify, app.core.history.verify)."""

from __future__ import annotations

from app.core.diff.patch import apply_patch
from app.core.errors import PatchError
from app.core.formats.format import hash_rules
from app.core.formats.integrity import blob_text, module_hash, state_hash
from app.core.formats.json_value import Json, parse_json
from app.core.formats.pointer import split
from app.core.history.payload import Op, Payload
from app.core.history.verify_report import VerifyReport
from app.core.history.version import Version


def replay(
    chain: list[Version], payloads: dict[str, Payload], blobs: dict[str, bytes],
    report: VerifyReport,
) -> None:
    """Replay the history from the root; check each state hash and each inverse patch."""
    state: dict[str, Json] | None = None
    hashes: dict[str, str] = {}
    hashes_format = 0
    for version in chain:
        subject = f"versions/{version.id}"
        payload = payloads.get(version.id)
        if hash_rules(version.format_version) != hashes_format:
            # The first version of a newer format (the upgrade, a checkpoint): format 1 kept no
            # member order, so its states cannot give format 2's hashes; resume at its snapshot.
            state = None
        if state is not None and payload is not None and payload.forward is not None:
            state = _step(version, payload, state, hashes, report)
        elif version.parent_id is not None:
            state = None  # cannot follow through this version; resume at the next checkpoint
        if version.snapshot is not None:
            if state is not None and hashes != version.snapshot:
                report.add("snapshot-mismatch", subject, "replayed state differs from the snapshot")
            if all(hashed in blobs for hashed in version.snapshot.values()):
                state = {key: parse_json(blobs[hashed], format_version=version.format_version)
                         for key, hashed in version.snapshot.items()}
                hashes = dict(version.snapshot)
                hashes_format = hash_rules(version.format_version)
            else:
                state = None


def _step(
    version: Version, payload: Payload, state: dict[str, Json], hashes: dict[str, str],
    report: VerifyReport,
) -> dict[str, Json] | None:
    subject = f"versions/{version.id}"
    forward: list[Op] = payload.forward or []
    touched = {_key_of(op) for op in forward}
    before = {key: hashes[key] for key in touched if key in hashes}
    try:
        result = apply_patch(state, forward)
    except PatchError as error:
        report.add("patch-failed", subject, f"forward patch does not apply: {error}")
        return None
    if not isinstance(result, dict):
        report.add("patch-failed", subject, "forward patch replaced the state document")
        return None
    canonical: dict[str, bytes] = {}
    fmt = version.format_version
    for key in touched:
        if key in result:
            canonical[key] = blob_text(result[key], fmt)
            hashes[key] = module_hash(result[key], fmt)
        else:
            hashes.pop(key, None)
    if state_hash(hashes) != version.state_hash:
        report.add("state-mismatch", subject, "replayed state does not match the stateHash")
    copy: Json = {key: parse_json(data, format_version=fmt) for key, data in canonical.items()}
    try:
        reverted = apply_patch(copy, payload.inverse or [])
        ok = isinstance(reverted, dict) and {
            key: module_hash(value, fmt) for key, value in reverted.items()
        } == before
    except PatchError:
        ok = False
    if not ok:
        report.add("inverse-mismatch", subject, "inverse patch does not restore the parent state")
    return result


def _key_of(op: Op) -> str:
    try:
        tokens = split(str(op.get("path", "")))
    except PatchError:
        return ""
    return tokens[0] if tokens else ""
