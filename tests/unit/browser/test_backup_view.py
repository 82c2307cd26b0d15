"""The backup files section's markup: only what the user may do, and every value escaped."""

from __future__ import annotations

from app.browser.backup_view import (
    backup_form,
    exported_view,
    import_preview_view,
    imported_view,
    passphrase_view,
)

EVIL = '<img src=x onerror="alert(1)">'


def test_the_forms_follow_the_permissions() -> None:
    both = backup_form({"export": True, "import": True})
    assert 'data-testid="export-form"' in both and 'data-testid="import-form"' in both
    assert 'type="password"' in both  # a passphrase is never shown
    only_export = backup_form({"export": True})
    assert 'data-testid="import-form"' not in only_export
    assert "may neither export nor import" in backup_form({})


def test_the_import_preview_shows_the_file_and_the_changes_as_text() -> None:
    answer = {
        "backup": {"createdAt": 1_700_000_000_000, "createdBy": EVIL, "device": EVIL,
                   "source": {"seq": 7}, "modules": ["w3-hotel-guests"]},
        "preview": {"nothingToDo": False, "headVersionId": "v9",
                    "totals": {"created": 2, "deleted": 1, "updated": 0},
                    "conflicts": [], "modules": [{"module": "w3-hotel-guests", "created": 2, "deleted": 1,
                                                  "updated": 0, "records": [
                                                      {"recordId": EVIL, "action": "create", "before": None,
                                                       "after": {"id": "g1", "name": EVIL}, "fields": []}]}]},
    }
    html = import_preview_view(answer)
    assert EVIL not in html and "&lt;img" in html
    assert "creates 2 records, deletes 1 and changes 0" in html and "(version 7)" in html
    assert 'data-action="confirm-import"' in html and 'data-head="v9"' in html
    nothing = import_preview_view({"backup": {}, "preview": {"nothingToDo": True}})
    assert "Nothing to change" in nothing and "confirm-import" not in nothing


def test_the_outcomes_say_what_happened() -> None:
    done = imported_view({"version": {"id": "v10", "parentId": "v9", "changeCount": 3,
                                      "description": EVIL}})
    assert EVIL not in done and 'data-action="undo-restore"' in done and 'data-parent="v9"' in done
    assert "Undo this import" in done
    assert EVIL not in imported_view({"nothingToDo": True, "message": EVIL})
    saved = exported_view({"filename": EVIL, "size": 1234, "modules": ["a", "b"], "encrypted": True})
    assert EVIL not in saved and "1,234 bytes, 2 modules" in saved and "passphrase" in saved


def test_the_passphrase_section_shows_who_set_it_as_text_and_the_form_only_to_those_who_may() -> None:
    status = {"set": True, "setAt": 1_700_000_000_000, "setBy": EVIL, "usable": False}
    html = passphrase_view(status, can_change=True)
    assert EVIL not in html and "&lt;img src=x" in html
    assert 'data-testid="passphrase-current"' in html and 'data-action="remove-passphrase"' in html
    assert 'data-testid="passphrase-unusable"' in html
    assert html.count('type="password"') == 3
    read_only = passphrase_view(status, can_change=False)
    assert "<form" not in read_only and "encrypted with the hotel's passphrase" in read_only
    unset = passphrase_view({"set": False, "usable": False}, can_change=True)
    assert "No encryption passphrase is set" in unset and "passphrase-current" not in unset
    assert "remove-passphrase" not in unset


def test_the_way_on_from_a_damaged_history() -> None:
    from app.browser.backup_view import new_history_view

    assert new_history_view(False, True) == ""  # a sound history offers nothing
    offer = new_history_view(True, True)
    assert 'data-action="new-history"' in offer and "Export the versions" in offer
    assert "confirm-new-history" not in offer  # two steps
    confirm = new_history_view(True, True, confirming=True)
    assert 'data-action="confirm-new-history"' in confirm and 'data-action="cancel-new-history"' in confirm
    told = new_history_view(True, False)
    assert "data-action" not in told and "administrator" in told
