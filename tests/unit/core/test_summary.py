from __future__ import annotations

from app.core.diff.changelog import Change
from app.core.diff.summary import describe, record_noun

GUESTS = "w3-hotel-guests"


def test_one_created_guest_is_named() -> None:
    change = Change(GUESTS, "create", "g-1", None, {"id": "g-1", "firstName": "Grace", "lastName": "Hopper"})
    assert describe([change]) == "Created guest Grace Hopper"


def test_one_update_lists_its_top_level_fields() -> None:
    before = {"id": "g-1", "firstName": "Grace", "lastName": "Hopper"}
    after = {**before, "lastName": "Murray Hopper"}
    change = Change(GUESTS, "update", "g-1", before, after, ["/lastName", "/preferences/0"])
    assert describe([change]) == "Updated guest Grace Murray Hopper (lastName, preferences)"


def test_records_without_names_use_numbers_then_ids() -> None:
    room = Change("w3-hotel-rooms", "delete", "r-1", {"id": "r-1", "roomNumber": "101"}, None)
    assert describe([room]) == "Deleted room 101"
    bare = Change("w3-hotel-reservations", "create", "res-9", None, {"id": "res-9"})
    assert describe([bare]) == "Created reservation res-9"


def test_many_changes_are_counted_per_module() -> None:
    changes = [
        Change(GUESTS, "create", "a", None, {"id": "a"}),
        Change(GUESTS, "create", "b", None, {"id": "b"}),
        Change(GUESTS, "update", "c", {"id": "c"}, {"id": "c", "x": 1}, ["/x"]),
        Change("w3-hotel-rooms", "delete", "r", {"id": "r"}, None),
    ]
    assert describe(changes) == "guests: 2 created, 1 updated; rooms: 1 deleted"


def test_whole_values_and_nothing() -> None:
    settings = Change("hotel-settings", "update", "", {"a": 1}, {"a": 2}, ["/a"])
    assert describe([settings]) == "Updated hotel settings"
    assert describe([]) == ""


def test_nouns_are_singular() -> None:
    assert record_noun("w3-hotel-finance-invoices") == "invoice"
    assert record_noun("w3-hotel-inventory") == "inventory"
    assert record_noun("w3-hotel-housekeeping-tasks") == "task"
    assert record_noun("w3-hotel-feedback") == "feedback"
    assert record_noun("w3-hotel-loyalty-transactions") == "transaction"
    assert record_noun("w3-hotel-menu-items") == "item"
    assert record_noun("w3-hotel-campaigns") == "campaign"
    assert record_noun("w3-hotel-maintenance") == "maintenance"
    assert record_noun("w3-hotel-event-days") == "day"
    assert record_noun("w3-hotel-complaints") == "complaint"
    assert record_noun("w3-hotel-finance-budgets") == "budget"
    assert record_noun("w3-hotel-rate-calendar") == "calendar"
    assert record_noun("w3-hotel-chart-of-accounts") == "account"
    assert record_noun("w3-hotel-suppliers") == "supplier"
    assert record_noun("w3-hotel-system-users") == "user"
    assert record_noun("w3-hotel-recipes") == "recipe"
    assert record_noun("w3-hotel-kitchen-inventory-issues") == "issue"
    assert record_noun("w3-hotel-categories") == "category"
