"""A key's path in the store is percent-encoded exactly as urllib.parse.quote(key, safe="")."""

from __future__ import annotations

from urllib.parse import quote, unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.browser.kv_path import key_path


@pytest.mark.parametrize("key", ["w3-hotel-guests", "a b/c?d#e%f", "Zoë 🏨", "~._-", "", "backstay:history"])
def test_named_keys(key: str) -> None:
    assert key_path(key) == "/_spark/kv/" + quote(key, safe="")


@given(st.text())
def test_any_key_is_encoded_as_quote_encodes_it_and_decodes_back(key: str) -> None:
    assert key_path(key) == "/_spark/kv/" + quote(key, safe="")
    assert unquote(key_path(key)[len("/_spark/kv/"):]) == key


def test_a_key_with_a_lone_surrogate_is_refused_as_quote_refuses_it() -> None:
    with pytest.raises(UnicodeEncodeError):
        quote("a\ud800", safe="")
    with pytest.raises(UnicodeEncodeError):
        key_path("a\ud800")
