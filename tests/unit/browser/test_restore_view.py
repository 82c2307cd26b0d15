"""The compare and restore markup: field by field, paged, conflicts to choose, always escaped."""

from __future__ import annotations

from app.browser.panel_view import PAGE, audit_rows, change_list, comparison_view, version_rows
from app.browser.restore_view import outcome_view, preview_view, restore_form

EVIL = '<img src=x onerror="alert(1)">'


def record(n: int, **extra: object) -> dict[str, object]:
    return {"recordId": f"g{n}", "action": "create", "before": None,
            "after": {"id": f"g{n}", "name": EVIL}, "fields": [], **extra}


def test_rows_offer_compare_restore_revert_and_undo() -> None:
    versions = [
        {"id": "v3", "timestamp": 3, "changeType": "restore", "parentId": "v2", "modules": []},
        {"id": "v2", "timestamp": 2, "changeType": "auto", "parentId": "v1", "modules": []},
        {"id": "v1", "timestamp": 1, "changeType": "auto", "parentId": None, "modules": []},
    ]
    html = version_rows(versions)
    assert html.count('data-action="compare"') == 3
    assert html.count('data-action="restore"') == 2  # not to the head: it is today
    assert html.count('data-action="revert"') == 2  # the oldest has nothing before it
    assert html.count('data-action="undo-restore"') == 1 and 'data-parent="v2"' in html


def test_the_changelog_shows_fields_side_by_side_and_escaped() -> None:
    html = change_list({"description": EVIL, "timestamp": 0, "createdBy": EVIL, "changes": [
        {"module": "w3-hotel-guests", "action": "update", "recordId": EVIL,
         "before": {"id": "g1", "name": "Ann", EVIL: 1}, "after": {"id": "g1", "name": "Anne", EVIL: 2},
         "fields": ["/name", "/" + EVIL]}]})
    assert "<img" not in html and "&lt;img" in html
    assert '<td class="bs-before">Ann</td><td class="bs-after">Anne</td>' in html
    assert '<td class="bs-before">1</td><td class="bs-after">2</td>' in html


def test_long_lists_are_paged_and_comparisons_say_their_totals() -> None:
    comparison = {"totals": {"created": 45, "deleted": 0, "updated": 0}, "modules": [
        {"module": "w3-hotel-guests", "created": 45, "records": [record(n) for n in range(45)]}]}
    html = comparison_view(comparison, [{"id": "v1", "timestamp": 0, "description": EVIL}], "v0", "today")
    assert html.count('data-testid="change"') == PAGE and "Show 20 more" in html
    more = comparison_view(comparison, [], "v0", "today", {"w3-hotel-guests": 40})
    assert more.count('data-testid="change"') == 40 and "Show 5 more" in more
    assert "<img" not in html


def test_the_preview_lists_conflicts_with_a_choice_and_a_confirm_button() -> None:
    preview = {"target": "v1", "headVersionId": "v9", "nothingToDo": False,
               "totals": {"created": 1, "deleted": 0, "updated": 0},
               "modules": [{"module": "w3-hotel-guests", "created": 1, "records": [record(1)],
                            "moreRecords": 0, "action": "write"}],
               "conflicts": [{"module": "w3-hotel-guests", "recordId": EVIL, "fields": ["/phone"],
                              "today": {"phone": "2"}, "target": {"phone": EVIL}, "keep": "today"}]}
    html = preview_view(preview)
    assert "creates 1 records, deletes 0 and changes 0, in 1 module(s)" in html
    assert html.count('data-testid="conflict-choice"') == 1
    assert '<option value="today" selected>' in html
    assert 'data-action="confirm"' in html and 'data-head="v9"' in html
    assert "<img" not in html
    assert "Nothing to change" in preview_view({"nothingToDo": True})


def test_form_outcome_and_audit_escape_what_they_show() -> None:
    form = restore_form({"id": "v1", "timestamp": 0, "description": EVIL}, "full",
                        ["w3-hotel-guests", EVIL])
    assert 'data-testid="mode-merge"' in form and form.count('name="bs-module"') == 2
    assert "<img" not in form
    assert "Undo this restore" in outcome_view({"version": {"id": "v5", "parentId": "v4",
                                                            "description": EVIL}})
    audit = audit_rows([{"at": 0, "user": EVIL, "action": "restore", "result": "failed",
                         "message": EVIL}])
    assert "<img" not in audit and "bs-result-failed" in audit


def test_picks_and_conflict_choices_survive_a_redraw() -> None:
    preview = {"target": "v1", "headVersionId": "v9", "nothingToDo": False, "totals": {},
               "modules": [{"module": "m", "created": 2, "records": [record(1), record(2)]}],
               "conflicts": [{"module": "m", "recordId": "g7", "fields": ["/a"], "today": {"a": 1},
                              "target": {"a": 2}, "keep": "today"}]}
    html = preview_view(preview, None, frozenset({("m", "g2")}), {("m", "g7"): "target"})
    assert html.count(" checked>") == 1
    assert 'data-record-id="g2" aria-label="Pick this record" checked' in html
    assert '<option value="target" selected>' in html
