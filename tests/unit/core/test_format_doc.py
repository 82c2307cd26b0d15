"""docs/FORMAT.md: its worked examples are read with the core's own readers and checked."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import UnknownFormatVersion
from app.core.gzip_codec import GzipCompressor
from app.core.head import HeadPointer
from app.core.integrity import link, module_hash, state_hash
from app.core.json_value import RawNumber, canonical_json, parse_json
from app.core.patch import apply_patch
from app.core.payload import Payload
from app.core.version import Version

DOC = Path(__file__).resolve().parents[3] / "docs" / "FORMAT.md"


def examples() -> dict[str, str]:
    found = re.findall(r"<!-- example: ([^>]+?) -->\n```json\n(.*?)\n```", DOC.read_text("utf-8"),
                       re.S)
    return dict(found)


def _obj(name: str) -> dict[str, Any]:
    value = json.loads(examples()[name])
    assert isinstance(value, dict)
    return value


def test_the_examples_are_there() -> None:
    names = set(examples())
    assert {"version-checkpoint", "version-delta", "payload-delta", "head"} <= names
    assert sum(name.startswith("blob ") for name in names) == 2


def test_examples_decode_and_are_consistent() -> None:
    baseline = Version.from_dict(_obj("version-checkpoint"))
    delta = Version.from_dict(_obj("version-delta"))
    payload = Payload.decode(json.dumps(_obj("payload-delta")).encode(), GzipCompressor())
    head = HeadPointer.decode(json.dumps(_obj("head")).encode())
    blobs = {name.split()[1]: text for name, text in examples().items() if name.startswith("blob ")}
    for hashed, text in blobs.items():
        assert hashlib.sha256(text.encode()).hexdigest() == hashed
    assert baseline.snapshot is not None and set(baseline.snapshot.values()) == set(blobs)
    state = {key: parse_json(blobs[hashed]) for key, hashed in baseline.snapshot.items()}
    assert state_hash({key: module_hash(value) for key, value in state.items()}) \
        == baseline.state_hash
    assert baseline.link == link(None, None, baseline.id, baseline.state_hash)
    assert delta.parent_id == baseline.id
    assert delta.link == link(baseline.id, baseline.state_hash, delta.id, delta.state_hash)
    assert payload.forward is not None and payload.inverse is not None
    after = apply_patch(json.loads(json.dumps(state)), payload.forward)
    assert isinstance(after, dict)
    hashes = {key: module_hash(value) for key, value in after.items()}
    assert state_hash(hashes) == delta.state_hash == head.state_hash
    assert hashes == head.module_hashes and head.version_id == delta.id
    assert apply_patch(after, payload.inverse) == state
    assert [change.record_id for change in payload.changes] == ["gst-000002", "gst-000001"]


@pytest.mark.parametrize("name", ["version-checkpoint", "head", "payload-delta"])
def test_unknown_format_versions_are_refused(name: str) -> None:
    obj = _obj(name)
    obj["formatVersion"] = 2
    data = json.dumps(obj).encode()
    with pytest.raises(UnknownFormatVersion):
        if name == "head":
            HeadPointer.decode(data)
        elif name == "payload-delta":
            Payload.decode(data, GzipCompressor())
        else:
            Version.decode(data)


def test_unusual_values_example_is_canonical() -> None:
    written = parse_json(examples()["unusual-written"])
    canonical = examples()["unusual-canonical"].encode()
    assert canonical_json(written) == canonical
    assert parse_json(canonical) == written
    assert isinstance(written, list) and isinstance(written[0], dict)
    assert written[0]["spent"] == RawNumber("1e+400") and written[0]["debt"] == RawNumber("-1.25e+400")
    assert written[0]["name"] == "Zo\ud83d" and written[0]["emoji"] == "\U0001f600"
    assert written[0]["tiny"] == 0
