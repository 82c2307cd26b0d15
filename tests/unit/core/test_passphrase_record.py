"""The record of the hotel's encryption passphrase (meta/passphrase) and which passphrases may
be set."""

from __future__ import annotations

import json

import pytest

from app.core.errors import CorruptData, UnknownFormatVersion
from app.core.formats.passphrase import MIN_LENGTH, PassphraseError, PassphraseRecord, check_new_passphrase

RECORD = PassphraseRecord(bytes(range(16)), 600_000, bytes(12), bytes(41), 1_700_000_000_000, "gm")


def _edited(**changes: object) -> bytes:
    raw = json.loads(RECORD.encode())
    raw.update(changes)
    return json.dumps(raw).encode()


def test_a_record_reads_back_as_written_and_none_means_no_passphrase() -> None:
    assert PassphraseRecord.decode(RECORD.encode()) == RECORD
    assert PassphraseRecord.decode(None) is None
    assert RECORD.key_id == "AAECAwQFBgcICQoLDA0ODw=="
    assert RECORD.summary() == {"set": True, "setAt": 1_700_000_000_000, "setBy": "gm", "iterations": 600_000}


@pytest.mark.parametrize("changes", [
    {"kdf": "scrypt"}, {"iterations": 1000}, {"iterations": 10_000_001}, {"iterations": True},
    {"iterations": "600000"}, {"salt": "AAEC"},
    {"salt": "not base64!"}, {"checkIv": ""}, {"check": "AAAA"}, {"setAt": "today"}, {"setBy": None},
])
def test_a_damaged_record_is_reported_not_trusted(changes: dict[str, object]) -> None:
    with pytest.raises(CorruptData):
        PassphraseRecord.decode(_edited(**changes))


def test_not_json_and_a_newer_format_are_refused_differently() -> None:
    with pytest.raises(CorruptData):
        PassphraseRecord.decode(b"\x00not json")
    with pytest.raises(UnknownFormatVersion):
        PassphraseRecord.decode(_edited(formatVersion=99))


@pytest.mark.parametrize("passphrase", [None, 42, "", " " * 20, "a" * (MIN_LENGTH - 1), "x" * 1025,
                                        "twelve chars\ud800 ok"])
def test_a_weak_or_broken_passphrase_cannot_be_set(passphrase: object) -> None:
    with pytest.raises(PassphraseError):
        check_new_passphrase(passphrase)  # type: ignore[arg-type]


def test_a_long_enough_passphrase_is_taken_as_typed() -> None:
    for passphrase in ("a" * MIN_LENGTH, "correct horse battery staple", "mot de passe très long ✓"):
        assert check_new_passphrase(passphrase) == passphrase
