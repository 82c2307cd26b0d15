"""The Spark KV HTTP protocol of the local server, through Starlette's TestClient (real SQLite)."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import quote

import pytest
from server_harness import AppFactory
from starlette.testclient import TestClient


def url(key: str, collection: str | None = None) -> str:
    """The URL the Spark KVClient builds: encodeURIComponent(key), optional ?collection=."""
    path = f"/_spark/kv/{quote(key, safe='')}"
    return path if collection is None else f"{path}?collection={quote(collection, safe='')}"


def post(client: TestClient, key: str, body: bytes | str, **kwargs: str) -> int:
    data = body.encode() if isinstance(body, str) else body
    headers = {"Content-Type": "text/plain", "X-Spark-Initial": kwargs.pop("initial", "false")}
    return client.post(url(key, **kwargs), content=data, headers=headers).status_code


def test_empty_store_lists_no_keys(client: TestClient) -> None:
    response = client.get("/_spark/kv")
    assert response.status_code == 200
    assert response.json() == []


def test_missing_key_is_404_with_json_error(client: TestClient) -> None:
    response = client.get(url("w3-hotel-guests"))
    assert response.status_code == 404
    assert "w3-hotel-guests" in response.json()["error"]


def test_set_then_get_returns_the_exact_text_as_json(client: TestClient) -> None:
    text = '[{"id": "g1", "firstName": "Amaya"},  {"id":"g2"}]'
    assert post(client, "w3-hotel-guests", text) == 200
    response = client.get(url("w3-hotel-guests"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == text  # stored as received, whitespace included


@pytest.mark.parametrize("value", ["a string", 0, -1.5, True, None, {}, [], {"nested": [1, {"x": None}]}])
def test_any_json_value_round_trips(client: TestClient, value: object) -> None:
    assert post(client, "k", json.dumps(value)) == 200
    assert client.get(url("k")).json() == value


def test_keys_lists_every_key_sorted(client: TestClient) -> None:
    for key in ("w3-hotel-rooms", "w3-hotel-guests", "w3-backup-config"):
        post(client, key, "[]")
    assert client.get("/_spark/kv").json() == ["w3-backup-config", "w3-hotel-guests", "w3-hotel-rooms"]


def test_set_replaces_the_value(client: TestClient) -> None:
    post(client, "k", "[1]")
    post(client, "k", "[1,2]")
    assert client.get(url("k")).json() == [1, 2]


def test_delete_removes_the_key_and_is_idempotent(client: TestClient) -> None:
    post(client, "k", "1")
    first = client.delete(url("k"))
    assert first.status_code == 200 and first.json()["deleted"] is True
    assert client.get(url("k")).status_code == 404
    assert client.get("/_spark/kv").json() == []
    again = client.delete(url("k"))
    assert again.status_code == 200 and again.json()["deleted"] is False


def test_initial_write_sets_an_absent_key(client: TestClient) -> None:
    assert post(client, "k", "[]", initial="true") == 200
    assert client.get(url("k")).json() == []


def test_initial_write_never_overwrites_an_existing_value(client: TestClient) -> None:
    # getOrSetKey POSTs its default with X-Spark-Initial: true after finding no value; if another
    # writer stored one meanwhile, the default must not clobber it.
    post(client, "k", '["real data"]')
    response = client.post(url("k"), content=b"[]", headers={"X-Spark-Initial": "true"})
    assert response.status_code == 200 and response.json()["stored"] is False
    assert client.get(url("k")).json() == ["real data"]


def test_non_initial_write_overwrites(client: TestClient) -> None:
    post(client, "k", "1")
    assert post(client, "k", "2", initial="false") == 200
    assert client.get(url("k")).json() == 2


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1, 2", b"{'single': 'quotes'}", b"NaN", b"[Infinity]", b"\xff\xfe[]",
     b"\xef\xbb\xbf[]", b"[1] [2]", b"undefined"],
)
def test_a_body_that_is_not_json_is_400_and_changes_nothing(client: TestClient, body: bytes) -> None:
    post(client, "k", '{"keep": true}')
    response = client.post(url("k"), content=body, headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert "not" in response.json()["error"]
    assert client.get(url("k")).json() == {"keep": True}


def test_a_bad_body_for_a_new_key_creates_nothing(client: TestClient) -> None:
    assert post(client, "new", "{oops") == 400
    assert client.get(url("new")).status_code == 404
    assert client.get("/_spark/kv").json() == []


def test_deeply_nested_json_is_refused_cleanly(client: TestClient) -> None:
    assert post(client, "deep", "[" * 100_000 + "]" * 100_000) == 400


@pytest.mark.parametrize(
    "key",
    ["with space", "ünïcødé-客房-🛏", "a/b", "a%2Fb", "../etc/passwd", "q?x=1&y=2#frag", "plus+sign",
     "line\nbreak", "tab\tkey", "percent%25", "dots.", "trailing/", "/leading", "back\\slash", "'\"<>"],
)
def test_keys_with_any_characters_round_trip(client: TestClient, key: str) -> None:
    assert post(client, key, json.dumps({"key": key})) == 200
    assert client.get(url(key)).json() == {"key": key}
    assert key in client.get("/_spark/kv").json()
    assert client.delete(url(key)).json()["deleted"] is True


def test_encoded_slash_and_literal_slash_name_the_same_key(client: TestClient) -> None:
    # encodeURIComponent("a/b") is "a%2Fb"; the key is the decoded path either way.
    post(client, "a/b", "1")
    assert client.get("/_spark/kv/a/b").json() == 1
    assert client.get("/_spark/kv/a%2Fb").json() == 1


def test_key_is_decoded_exactly_once(client: TestClient) -> None:
    post(client, "100%", "1")  # sent as 100%25
    assert client.get("/_spark/kv/100%25").json() == 1
    assert client.get("/_spark/kv/100%2525").status_code == 404


def test_invalid_utf8_in_the_key_is_400(client: TestClient) -> None:
    assert client.get("/_spark/kv/%FF").status_code == 400


def test_empty_key_is_400(client: TestClient) -> None:
    response = client.post("/_spark/kv/", content=b"1")
    assert response.status_code == 400
    assert "empty" in response.json()["error"]


def test_collections_are_separate_namespaces(client: TestClient) -> None:
    post(client, "k", '"default"')
    post(client, "k", '"in a"', collection="a")
    post(client, "only-b", '"in b"', collection="b")
    assert client.get(url("k")).json() == "default"
    assert client.get(url("k", "a")).json() == "in a"
    assert client.get(url("k", "b")).status_code == 404
    assert client.get("/_spark/kv").json() == ["k"]
    assert client.get("/_spark/kv?collection=a").json() == ["k"]
    assert client.get("/_spark/kv?collection=b").json() == ["only-b"]
    client.delete(url("k", "a"))
    assert client.get(url("k")).json() == "default"


def test_db_collection_listing_gives_key_and_value_text(client: TestClient) -> None:
    post(client, "01J0", '{"name": "x"}', collection="docs")
    response = client.get("/_spark/db/collections/docs")
    assert response.status_code == 200
    assert response.json() == [{"key": "01J0", "value": '{"name": "x"}'}]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_other_methods_on_a_key_are_405(client: TestClient, method: str) -> None:
    response = client.request(method, url("k"), content=b"1")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert "error" in response.json()


def test_head_of_a_key_has_no_body(client: TestClient) -> None:
    post(client, "k", "[1,2,3]")
    response = client.head(url("k"))
    assert response.status_code == 200 and response.content == b""


def test_kv_responses_are_not_cached(client: TestClient) -> None:
    post(client, "k", "1")
    assert client.get(url("k")).headers["cache-control"] == "no-store"
    assert client.get("/_spark/kv").headers["cache-control"] == "no-store"


def tag_of(text: str) -> str:
    return '"' + hashlib.sha256(text.encode()).hexdigest() + '"'


def test_a_conditional_get_naming_the_values_sha256_is_304_without_a_body(client: TestClient) -> None:
    text = '[{"id":"g1","name":"Zoë"}]'
    post(client, "w3-hotel-guests", text)
    response = client.get(url("w3-hotel-guests"), headers={"If-None-Match": tag_of(text)})
    assert response.status_code == 304 and response.content == b""
    assert response.headers["etag"] == tag_of(text)
    assert response.headers["cache-control"] == "no-store"


def test_a_conditional_get_naming_another_text_gets_the_value_and_its_tag(client: TestClient) -> None:
    old, new = '[{"id":"g1"}]', '[{"id":"g1"}, {"id":"g2"}]'
    post(client, "k", old)
    post(client, "k", new)
    response = client.get(url("k"), headers={"If-None-Match": tag_of(old)})
    assert response.status_code == 200 and response.text == new
    assert response.headers["etag"] == tag_of(new)


@pytest.mark.parametrize("header", ['"0", {tag}', "W/{tag}", "*", ' {tag} '])
def test_if_none_match_takes_lists_weak_tags_and_a_star(client: TestClient, header: str) -> None:
    post(client, "k", "[1]")
    response = client.get(url("k"), headers={"If-None-Match": header.format(tag=tag_of("[1]"))})
    assert response.status_code == 304


def test_if_none_match_sent_as_several_header_lines_is_read_whole(client: TestClient) -> None:
    post(client, "k", "[1]")
    response = client.get(url("k"), headers=[("If-None-Match", '"0"'), ("If-None-Match", tag_of("[1]"))])
    assert response.status_code == 304


def test_another_site_may_not_ask_conditionally(client: TestClient) -> None:
    """If-None-Match is not a header a page may send to another origin without its leave: the
    browser asks first (a preflight), and the server gives no leave, so another web site cannot
    learn whether a value is a text it guesses."""
    post(client, "k", "[1]")
    preflight = client.options(url("k"), headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert not any(name.lower().startswith("access-control-allow") for name in preflight.headers)


def test_a_conditional_get_of_a_missing_key_is_404(client: TestClient) -> None:
    assert client.get(url("k"), headers={"If-None-Match": "*"}).status_code == 404


def test_a_plain_get_computes_no_tag(client: TestClient) -> None:
    post(client, "k", "[1]")
    assert "etag" not in client.get(url("k")).headers


def test_a_30_mb_value_round_trips(client: TestClient) -> None:
    guest = {"id": "gst-000000", "firstName": "Jürgen", "lastName": "Großmann", "notes": "x" * 200}
    records = [dict(guest, id=f"gst-{n:06d}") for n in range(110_000)]
    text = json.dumps(records, ensure_ascii=False)
    assert len(text.encode()) > 30_000_000
    assert post(client, "w3-hotel-guests", text) == 200
    response = client.get(url("w3-hotel-guests"))
    assert response.status_code == 200
    assert response.content == text.encode()


def test_a_value_over_the_size_limit_is_413_and_changes_nothing(make_client: AppFactory) -> None:
    small = make_client(max_value_bytes=1000)
    post(small, "k", "[1]")
    response = small.post(url("k"), content=json.dumps(["x" * 2000]).encode())
    assert response.status_code == 413
    assert "not stored" in response.json()["error"]
    assert small.get(url("k")).json() == [1]
