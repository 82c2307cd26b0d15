"""The retention and deletion markup: the form follows the permissions, values are escaped."""

from __future__ import annotations

from app.browser.cleanup_view import cleaned_view, cleanup_preview, delete_confirm, retention_form
from app.browser.panel_view import version_rows

EVIL = '<img src=x onerror="alert(1)">'


def test_the_form_shows_the_settings_and_only_what_the_user_may_do() -> None:
    html = retention_form({"maxAgeDays": 30, "maxVersions": None, "keepBackups": True}, True, True)
    assert 'value="30"' in html and 'name="maxVersions" value=""' in html and " checked" in html
    assert 'data-action="save-retention"' in html and 'data-action="preview-cleanup"' in html
    read_only = retention_form({"maxAgeDays": None}, False, False)
    assert "disabled" in read_only and "save-retention" not in read_only
    assert "preview-cleanup" not in read_only


def test_the_cleanup_preview_lists_what_goes_escaped() -> None:
    versions = {f"v{n}": {"id": f"v{n}", "timestamp": n, "description": EVIL} for n in range(30)}
    html = cleanup_preview({"wouldDelete": list(versions), "kept": 3}, versions)
    assert EVIL not in html and "deletes 30 version(s) and keeps 3" in html and "and 10 more" in html
    assert 'data-action="confirm-cleanup"' in html
    assert "Nothing to clean up" in cleanup_preview({"wouldDelete": []}, {})
    assert "Deleted 2 version(s); 5 kept" in cleaned_view({"deleted": ["a", "b"], "kept": 5})
    confirm = delete_confirm({"id": "v1", "timestamp": 1, "description": EVIL})
    assert EVIL not in confirm and 'data-action="confirm-delete"' in confirm


def test_rows_offer_delete_except_for_today_and_undo_for_an_import() -> None:
    versions = [{"id": "v2", "timestamp": 2, "changeType": "import", "parentId": "v1", "modules": []},
                {"id": "v1", "timestamp": 1, "changeType": "auto", "parentId": None, "modules": []}]
    html = version_rows(versions, can_delete=True)
    assert html.count('data-action="delete-version"') == 1 and "Undo this import" in html
    assert 'data-action="delete-version"' not in version_rows(versions)
