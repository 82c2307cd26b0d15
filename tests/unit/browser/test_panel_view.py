from __future__ import annotations

from app.browser.panel_view import change_list, module_label, version_rows


def version(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "v1", "timestamp": 1_767_225_600_000, "createdBy": "admin", "changeType": "auto",
        "description": "guests: 1 updated", "modules": ["w3-hotel-guests"], "changeCount": 1,
    }
    return {**base, **overrides}


def test_rows_show_when_who_type_modules_and_change_count() -> None:
    html = version_rows([version(), version(id="v0", changeType="manual", changeCount=12,
                                            modules=["w3-hotel-guests", "w3-hotel-finance-invoices"])])
    assert html.count('data-testid="version-row"') == 2
    assert "Automatic" in html and "Manual" in html
    assert "guests, finance invoices" in html
    assert '<td data-testid="change-count">12</td>' in html
    assert html.index('data-version-id="v1"') < html.index('data-version-id="v0"')


def test_rows_escape_what_users_typed() -> None:
    html = version_rows([version(createdBy="<script>x</script>", description="a & b")])
    assert "<script>" not in html
    assert "&lt;script&gt;" in html and "a &amp; b" in html


def test_no_versions_says_so() -> None:
    assert "No versions yet" in version_rows([])


def test_change_list_shows_each_record_with_its_action() -> None:
    detail = version(changes=[
        {"module": "w3-hotel-guests", "action": "create", "recordId": "g-1", "before": None, "after": {}},
        {"module": "w3-hotel-guests", "action": "update", "recordId": "g-2", "fields": ["/lastName"]},
        {"module": "w3-hotel-guests", "action": "delete", "recordId": "g-<3>"},
    ])
    html = change_list(detail)
    assert html.count('data-testid="change"') == 3
    assert "<th>lastName</th>" in html
    assert "g-&lt;3&gt;" in html


def test_module_label_drops_the_prefix() -> None:
    assert module_label("w3-hotel-room-type-configs") == "room type configs"
    assert module_label("settings") == "settings"
