from __future__ import annotations

import pytest

from app.core.history.version_id import is_version_id, make_version_id, random_suffix


def test_ids_sort_chronologically_and_validate() -> None:
    ids = [make_version_id(1_700_000_000_000, 9, "z"), make_version_id(1_700_000_000_000, 10, "a"),
           make_version_id(1_700_000_000_001, 1, "0")]
    assert ids == sorted(ids) and all(is_version_id(i) for i in ids)
    assert is_version_id(make_version_id(5, 1, random_suffix()))
    for bad in ["", "UPPER", "a-b", "x" * 33]:
        with pytest.raises(ValueError):
            make_version_id(1, 1, bad)
    with pytest.raises(ValueError):
        make_version_id(-1, 1, "a")
