"""Backup files (docs/FORMAT.md, "Backup files"): what export writes, what import accepts, and
the import's plan (app.core.restore.backup_import)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.formats.backup import (
    AAD,
    Backup,
    BackupError,
    Envelope,
    decode_backup,
    decode_envelope,
    opening_texts,
    read_file,
    sealing_text,
)
from app.core.formats.json_value import Json, RawNumber, canonical_text, json_equal, parse_json
from app.core.history.history import State
from app.core.restore.backup_import import backup_label, describe_import, plan_import
from app.core.restore.request import RequestError, RestoreRequest
from tests.unit.core.strategies import json_values

GUESTS = "w3-hotel-guests"
ROOMS = "w3-hotel-rooms"
SETTINGS = "w3-hotel-settings"
ODD: Json = parse_json('{"zeta":1,"alpha":"Zo\\ud83d","ceiling":1e400,"big":12345678901234567891}')


def _backup(modules: dict[str, Json]) -> Backup:
    return Backup(modules, created_at=1_700_000_000_000, created_by="admin", device="Chrome · 3f2a",
                  source={"versionId": "1700000000000-000000001-t0000", "seq": 1,
                          "timestamp": 1_700_000_000_000, "stateHash": "0" * 64},
                  description="Backup of version 1")


def test_a_backup_reads_back_exactly_odd_values_and_member_order_included() -> None:
    backup = _backup({SETTINGS: ODD, GUESTS: [{"id": "g1", "name": "Ann"}]})
    file = backup.encode()
    read = decode_backup(file)
    assert canonical_text(read.modules[SETTINGS]) == '{"zeta":1,"alpha":"Zo\\ud83d","ceiling":1e+400,' \
        '"big":12345678901234567891}'
    assert read.summary() == backup.summary() and read.state_hash == backup.state_hash
    # Plain JSON a person (or Python's json) can read: one member per line, modules sorted.
    document = json.loads(file)
    assert list(document) == ["format", "formatVersion", "createdAt", "createdBy", "device",
                              "description", "source", "modules", "moduleHashes", "stateHash"]
    assert list(document["modules"]) == [GUESTS, SETTINGS]
    assert file.count(b"\n") == 7


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from([GUESTS, ROOMS, SETTINGS, "w3-hotel-x"]), json_values, max_size=4))
def test_any_modules_round_trip(drawn: dict[str, Json]) -> None:
    # Values as the history holds them: read from JSON text (one value per number).
    modules = {key: parse_json(canonical_text(value)) for key, value in drawn.items()}
    read = decode_backup(_backup(modules).encode())
    assert set(read.modules) == set(modules)
    for key, value in modules.items():
        assert json_equal(read.modules[key], value)
        assert canonical_text(read.modules[key]) == canonical_text(value)


@pytest.mark.parametrize("damage, message", [
    (lambda f: f.replace(b'"name":"Ann"', b'"name":"Anne"'), "module 'w3-hotel-guests' does not match"),
    (lambda f: f.replace(b'"stateHash":"', b'"stateHash":"0'), "its stateHash does not match"),
    (lambda f: f.replace(b'"formatVersion":3', b'"formatVersion":4'), "update Backstay"),
    (lambda f: f.replace(b'"formatVersion":3', b'"formatVersion":2'), "reads backups of format 3"),
    (lambda f: f.replace(b'"format":"backstay-backup"', b'"format":"other"'), "not a Backstay backup"),
    (lambda f: f[: len(f) // 2], "it is not JSON"),
    (lambda f: b"", "it is not JSON"),
    (lambda f: b"[1, 2]", "not a Backstay backup"),
    (lambda f: f.replace(b'"moduleHashes":{', b'"moduleHashes":{"w3-hotel-x":"00",'), "do not match"),
])
def test_a_damaged_edited_or_foreign_file_is_refused_with_a_message(damage, message) -> None:  # type: ignore[no-untyped-def]
    file = _backup({GUESTS: [{"id": "g1", "name": "Ann"}]}).encode()
    with pytest.raises(BackupError, match=message):
        decode_backup(damage(file))


def test_an_envelope_reads_back_and_refuses_what_it_cannot_be() -> None:
    envelope = Envelope(salt=b"s" * 16, iv=b"i" * 12, ciphertext=b"c" * 40)
    data = envelope.encode()
    assert isinstance(read_file(data), Envelope) and isinstance(read_file(_backup({}).encode()), Backup)
    assert decode_envelope(data) == envelope
    obj = json.loads(data)
    assert obj["cipher"] == "AES-256-GCM" and obj["kdf"] == "PBKDF2-SHA-256" and obj["iterations"] == 600_000
    assert AAD == b"backstay-backup-encrypted/3"
    for change, message in [({"iterations": 1000}, "key derivation"),
                            ({"cipher": "AES-128-CBC"}, "cannot read"), ({"iv": "aW8="}, "too short"),
                            ({"salt": "not base64!"}, "not base64"),
                            ({"data": None}, "data is missing"), ({"formatVersion": 9}, "update Backstay")]:
        with pytest.raises(BackupError, match=message):
            decode_envelope(json.dumps({**obj, **change}).encode())


def _values(state: State) -> object:
    async def head_values(keys: Collection[str]) -> State:
        return {key: state[key] for key in keys if key in state}
    return head_values


def test_an_import_changes_only_the_modules_the_backup_holds() -> None:
    today: State = {GUESTS: [{"id": "g9"}], ROOMS: [{"id": "r1"}], SETTINGS: {"currency": "EUR"}}
    backup = {GUESTS: [{"id": "g1"}], SETTINGS: {"currency": "LKR"}}
    label = backup_label(1_700_000_000_000, "admin")
    assert label == "the backup of 2023-11-14 22:13 UTC by admin"

    def plan(options: dict[str, Json]) -> object:
        return asyncio.run(plan_import(RestoreRequest.parse(label, options), backup, label, "head",
                                       _values(today)))  # type: ignore[arg-type]

    full = plan({"mode": "full"})
    assert full.writes == {GUESTS: [{"id": "g1"}], SETTINGS: {"currency": "LKR"}}  # type: ignore[attr-defined]
    assert describe_import(full) == f"Imported all modules from {label} (full)"  # type: ignore[arg-type]
    merged = plan({"mode": "merge"})
    assert merged.writes[GUESTS] == [{"id": "g9"}, {"id": "g1"}] or merged.writes[GUESTS] == [  # type: ignore[attr-defined]
        {"id": "g1"}, {"id": "g9"}]
    one = plan({"modules": [SETTINGS]})
    assert list(one.writes) == [SETTINGS]  # type: ignore[attr-defined]
    records = plan({"records": [{"module": GUESTS, "recordId": "g1"}]})
    assert records.writes == {GUESTS: [{"id": "g9"}, {"id": "g1"}]} or records.writes == {  # type: ignore[attr-defined]
        GUESTS: [{"id": "g1"}, {"id": "g9"}]}
    for options, message in [({"modules": [ROOMS]}, "holds no module w3-hotel-rooms"),
                             ({"expectHead": "other"}, "preview it again")]:
        with pytest.raises(RequestError, match=message):
            plan(options)
    with pytest.raises(RequestError, match="cannot be reverted"):
        asyncio.run(plan_import(RestoreRequest.parse({"from": "a", "to": "b"}, {"mode": "revert"}),
                                backup, label, "head", _values(today)))  # type: ignore[arg-type]
    with pytest.raises(RequestError, match="holds no modules"):
        asyncio.run(plan_import(RestoreRequest.parse(label, {}), {}, label, "head",
                                _values(today)))  # type: ignore[arg-type]


def test_raw_numbers_survive_an_import_plan() -> None:
    today: State = {SETTINGS: {"ceiling": 1}}
    backup = {SETTINGS: {"ceiling": RawNumber("1e+400")}}
    plan = asyncio.run(plan_import(RestoreRequest.parse("b", {}), backup, "b", "head",
                                   _values(today)))  # type: ignore[arg-type]
    assert plan.texts() == {SETTINGS: '{"ceiling":1e+400}'}


def test_a_backup_with_keys_backstay_does_not_keep_is_refused() -> None:
    for key in ("backstay:history", "", "w3-backup-config"):
        with pytest.raises(RequestError, match="does not keep"):
            asyncio.run(plan_import(RestoreRequest.parse("b", {}), {GUESTS: [], key: 1}, "b", "head",
                                    _values({})))  # type: ignore[arg-type]


def test_an_odd_header_is_refused_with_a_message_and_envelopes_are_told_apart() -> None:
    file = _backup({GUESTS: []}).encode()
    for bad in (b'"source":"ab"', b'"createdAt":100000000000000000'):
        edited = file.replace(b'"createdAt":1700000000000', bad if b"createdAt" in bad else
                              b'"createdAt":1700000000000').replace(b'"source":{', b'"x":{')
        if b"source" in bad:
            edited = edited.replace(b'"createdBy"', bad + b',"createdBy"')
        with pytest.raises(BackupError, match="damaged"):
            decode_backup(edited)
    described = Backup({GUESTS: []}, 1, "a", description="backstay-backup-encrypted").encode()
    assert isinstance(read_file(described), Backup)
    envelope = Envelope(salt=b"s" * 16, iv=b"i" * 12, ciphertext=b"c" * 40)
    reordered = json.loads(envelope.encode())
    reordered = {"data": reordered.pop("data"), **reordered}  # re-saved by another tool
    assert read_file(json.dumps(reordered, indent=2).encode()) == envelope
    with pytest.raises(BackupError, match="encrypted: enter the passphrase"):
        decode_backup(envelope.encode())


def test_a_passphrase_is_sealed_in_nfc_and_opened_as_typed_too() -> None:
    composed = "caf\u00e9 au lait, s'il vous pla\u00eet"
    assert sealing_text(composed) == composed
    assert sealing_text("cafe\u0301") == "caf\u00e9"
    assert opening_texts(composed) == [composed]
    assert opening_texts("cafe\u0301") == ["caf\u00e9", "cafe\u0301"]
    with pytest.raises(BackupError, match="broken character"):
        sealing_text("half a pair \ud83d")
