"""A browser that holds a history written by an earlier release - in storage format 1 (the
release before format 2), format 2 (the release before format 3) or format 3 (the release
before format 4) - keeps all of it when the new engine starts: every version reads back as it
was recorded, and the next edit is recorded in format 4. Real Chromium, real server, real
IndexedDB on disk."""

from __future__ import annotations

from typing import Any

import pytest
from harness import Server, diagnostics, versions, wait_ready, wait_versions
from stores import load_journal_into_browser, load_store_into_browser, open_origin_without_engine

from tests.fixtures.format1_store import load_format1_store, load_format2_store, load_format3_store

GUESTS = "w3-hotel-guests"
EDITED_GUEST = "g-000002"

#: "" when window.backstay.stateAt(id) holds exactly the keys of ``texts`` ({key: JSON text}),
#: each value equal to JSON.parse of its text (members in any order); else the first difference.
SAME_STATE_JS = """async ([id, texts]) => {
  const state = await window.backstay.stateAt(id);
  const differ = (a, b, path) => {
    if (a === b) return "";
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null
        || Array.isArray(a) !== Array.isArray(b)) {
      return `${path}: ${String(a).slice(0, 80)} != ${String(b).slice(0, 80)}`;
    }
    const keys = Array.isArray(a) ? null : Object.keys(a).sort();
    const other = Array.isArray(b) ? null : Object.keys(b).sort();
    if (keys ? keys.join("\\u0000") !== other.join("\\u0000") : a.length !== b.length) {
      return `${path}: members ${keys || a.length} != ${other || b.length}`;
    }
    for (const k of keys || a.keys()) {
      const found = differ(a[k], b[k], `${path}/${k}`);
      if (found) return found;
    }
    return "";
  };
  const expected = Object.fromEntries(Object.entries(texts).map(([k, t]) => [k, JSON.parse(t)]));
  return differ(state, expected, "");
}"""


FIXTURES = {"format 1": load_format1_store, "format 2": load_format2_store, "format 3": load_format3_store}


@pytest.mark.parametrize("made_by", list(FIXTURES))
def test_an_older_history_is_kept_whole_and_the_next_version_is_format_4(
        disk_page: Any, server: Server, made_by: str) -> None:
    collections, expected = FIXTURES[made_by]()
    fixture_ids = expected["versions"]
    for key, text in expected["head"].items():  # the store as the history's head saw it
        server.kv_set_text(key, text)
    page = disk_page
    open_origin_without_engine(page, server.url)
    counts = load_store_into_browser(page, collections)
    assert counts["versions"] == len(fixture_ids)
    load_journal_into_browser(page, collections)

    page.goto(server.url + "/")
    wait_ready(page)
    found = [version["id"] for version in versions(page)]
    missing = [version_id for version_id in fixture_ids if version_id not in found]
    assert not missing, f"versions lost: {missing}; {diagnostics(page)}"
    added = [version for version in versions(page) if version["id"] not in fixture_ids]
    # Format 1 is followed by an upgrade checkpoint; a format 2 or 3 store only gets a new head
    # pointer.
    assert [(v["changeType"], v["createdBy"], v["formatVersion"], v["changeCount"])
            for v in added] == ([("upgrade", "backstay", 4, 0)] if made_by == "format 1" else []), added
    for version_id in fixture_ids:
        difference = page.evaluate(SAME_STATE_JS, [version_id, expected["states"][version_id]])
        assert difference == "", f"state at {version_id} differs at {difference}"

    # An edit in the PMS: a guest's last name.
    before = len(found)
    page.get_by_test_id("nav-guests").click()
    page.locator(f'tr[data-record-id="{EDITED_GUEST}"]').get_by_test_id("edit-record").click()
    page.get_by_test_id("record-form").locator('[name="lastName"]').fill("Schäfer-Wolff")
    page.get_by_test_id("save-record").click()
    newest = wait_versions(page, before + 1)[0]
    assert newest["id"] not in fixture_ids
    assert newest["formatVersion"] == 4
    edited = page.evaluate("id => window.backstay.stateAt(id)", newest["id"])[GUESTS]
    assert next(g for g in edited if g["id"] == EDITED_GUEST)["lastName"] == "Schäfer-Wolff"
    # The fixture's history still reads back after the first format 4 version.
    assert all(version_id in {v["id"] for v in versions(page)} for version_id in fixture_ids)
    oldest = fixture_ids[0]
    assert page.evaluate(SAME_STATE_JS, [oldest, expected["states"][oldest]]) == ""
    status = page.evaluate("() => window.backstay.status()")
    problems = [problem for problem in status["problems"] if problem["area"] != "notice"]
    assert not problems, problems
    # A new start reads the head pointer from its records and the version after them.
    page.reload()
    wait_ready(page)
    assert versions(page)[0]["id"] == newest["id"]
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True
