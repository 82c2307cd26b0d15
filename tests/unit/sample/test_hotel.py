"""The sample hotel generator: deterministic, consistent, realistic, the right size."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from app.sample import hotel
from app.sample.timeline import NOW_MS

ROOM_TYPES = {"standard", "deluxe", "suite", "executive", "presidential"}
ROOM_STATUSES = {"vacant-clean", "vacant-dirty", "occupied-clean", "occupied-dirty", "maintenance",
                 "out-of-order"}
RESERVATION_STATUSES = {"confirmed", "checked-in", "checked-out", "cancelled", "no-show"}
INVOICE_STATUSES = {"draft", "issued", "paid", "void"}
GUEST_FIELDS = {"id", "firstName", "lastName", "email", "phone", "nationality", "idType", "idNumber",
                "address", "preferences", "loyaltyPoints", "totalStays", "totalSpent", "createdAt",
                "updatedAt"}
ROOM_FIELDS = {"id", "roomNumber", "floor", "roomType", "status", "baseRate", "maxOccupancy",
               "amenities", "lastCleaned", "assignedHousekeeper", "notes"}
RESERVATION_FIELDS = {"id", "guestId", "roomId", "checkInDate", "checkOutDate", "adults", "children",
                      "status", "ratePerNight", "totalAmount", "advancePaid", "source",
                      "specialRequests", "createdAt", "updatedAt", "createdBy"}
INVOICE_FIELDS = {"id", "invoiceNumber", "guestId", "reservationId", "lineItems", "subtotal", "tax",
                  "total", "status", "issueDate", "dueDate", "createdAt", "updatedAt"}

Data = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def small() -> Data:
    return hotel.generate("small")


def test_same_seed_gives_identical_output(small: Data) -> None:
    assert json.dumps(hotel.generate("small", seed=7)) == json.dumps(small)


def test_another_seed_gives_other_data(small: Data) -> None:
    other = hotel.generate("small", seed=8)
    assert other[hotel.GUESTS_KEY] != small[hotel.GUESTS_KEY]
    assert len(other[hotel.ROOMS_KEY]) == len(small[hotel.ROOMS_KEY])


def test_unknown_size_raises_value_error() -> None:
    with pytest.raises(ValueError, match="small"):
        hotel.generate("medium")


def test_sizes_lists_the_valid_sizes() -> None:
    assert hotel.sizes() == ("small", "large")


def test_small_has_the_promised_counts(small: Data) -> None:
    assert set(small) == set(hotel.KEYS)
    assert len(small[hotel.ROOMS_KEY]) == 50
    assert len(small[hotel.GUESTS_KEY]) == 2_000
    assert len(small[hotel.RESERVATIONS_KEY]) == 5_000
    assert 2_500 <= len(small[hotel.INVOICES_KEY]) <= 4_000
    assert 1_000_000 < len(json.dumps(small)) < 10_000_000


def test_ids_are_unique_strings_in_every_key(small: Data) -> None:
    for key, records in small.items():
        ids = [record["id"] for record in records]
        assert all(isinstance(i, str) and i for i in ids), key
        assert len(set(ids)) == len(ids), key


def test_records_have_the_pms_shapes(small: Data) -> None:
    for guest in small[hotel.GUESTS_KEY]:
        assert set(guest) <= GUEST_FIELDS
        assert {"id", "firstName", "lastName", "phone", "loyaltyPoints", "totalStays", "totalSpent",
                "createdAt", "updatedAt"} <= set(guest)
    for room in small[hotel.ROOMS_KEY]:
        assert set(room) <= ROOM_FIELDS
        assert room["roomType"] in ROOM_TYPES and room["status"] in ROOM_STATUSES
        assert isinstance(room["amenities"], list)
    for reservation in small[hotel.RESERVATIONS_KEY]:
        assert set(reservation) <= RESERVATION_FIELDS
        assert reservation["status"] in RESERVATION_STATUSES
        assert reservation["checkInDate"] < reservation["checkOutDate"]
        assert reservation["createdAt"] <= NOW_MS
    for invoice in small[hotel.INVOICES_KEY]:
        assert set(invoice) == INVOICE_FIELDS
        assert invoice["status"] in INVOICE_STATUSES
        for item in invoice["lineItems"]:
            assert set(item) == {"id", "description", "quantity", "unitPrice", "amount"}
            assert item["amount"] == round(item["quantity"] * item["unitPrice"], 2)
        assert invoice["subtotal"] == round(sum(i["amount"] for i in invoice["lineItems"]), 2)
        assert invoice["total"] == round(invoice["subtotal"] + invoice["tax"], 2)


def test_references_point_to_existing_records(small: Data) -> None:
    guests = {g["id"] for g in small[hotel.GUESTS_KEY]}
    rooms = {r["id"] for r in small[hotel.ROOMS_KEY]}
    reservations = {r["id"]: r for r in small[hotel.RESERVATIONS_KEY]}
    for reservation in reservations.values():
        assert reservation["guestId"] in guests
        assert reservation.get("roomId", next(iter(rooms))) in rooms
    for record in small[hotel.INVOICES_KEY] + small[hotel.FOLIOS_KEY]:
        reservation = reservations[record["reservationId"]]
        assert record["guestId"] == reservation["guestId"]
    for task in small[hotel.HOUSEKEEPING_KEY]:
        assert task["roomId"] in rooms
    assert guests == {r["guestId"] for r in reservations.values()}  # every guest has stayed or booked


def test_rooms_are_never_double_booked(small: Data) -> None:
    by_room: dict[str, list[tuple[int, int]]] = {}
    for reservation in small[hotel.RESERVATIONS_KEY]:
        if "roomId" in reservation:
            by_room.setdefault(reservation["roomId"], []).append(
                (reservation["checkInDate"], reservation["checkOutDate"]))
    for stays in by_room.values():
        stays.sort()
        assert all(prev[1] <= nxt[0] for prev, nxt in zip(stays, stays[1:], strict=False))


def test_statuses_agree_with_the_dates(small: Data) -> None:
    for reservation in small[hotel.RESERVATIONS_KEY]:
        status = reservation["status"]
        if status == "checked-in":
            assert reservation["checkInDate"] <= NOW_MS < reservation["checkOutDate"]
        elif status == "checked-out":
            assert reservation["checkOutDate"] <= NOW_MS
        elif status == "confirmed":
            assert reservation["checkInDate"] > NOW_MS
    occupied = {r["roomId"] for r in small[hotel.RESERVATIONS_KEY] if r["status"] == "checked-in"}
    for room in small[hotel.ROOMS_KEY]:
        assert room["status"].startswith("occupied") == (room["id"] in occupied)


def test_guest_totals_add_up(small: Data) -> None:
    stays = Counter(r["guestId"] for r in small[hotel.RESERVATIONS_KEY] if r["status"] == "checked-out")
    for guest in small[hotel.GUESTS_KEY]:
        assert guest["totalStays"] == stays.get(guest["id"], 0)
        assert guest["loyaltyPoints"] == int(guest["totalSpent"] // 10)


def test_arrays_are_in_creation_order(small: Data) -> None:
    for key in (hotel.GUESTS_KEY, hotel.RESERVATIONS_KEY, hotel.INVOICES_KEY):
        created = [record["createdAt"] for record in small[key]]
        assert created == sorted(created), key


def test_data_looks_real(small: Data) -> None:
    guests = small[hotel.GUESTS_KEY]
    assert len({g["lastName"] for g in guests}) > 50
    assert len({g.get("nationality") for g in guests}) >= 8
    assert any(not g["lastName"].isascii() for g in guests)  # accents survive
    assert all(g["email"].isascii() and "@" in g["email"] for g in guests if "email" in g)
    assert all(g["phone"].startswith("+") for g in guests)
    sources = Counter(r["source"] for r in small[hotel.RESERVATIONS_KEY])
    assert len(sources) >= 5


def test_large_has_the_promised_counts() -> None:
    large = hotel.generate("large")
    assert len(large[hotel.ROOMS_KEY]) == 500
    assert len(large[hotel.GUESTS_KEY]) == 50_000
    assert len(large[hotel.RESERVATIONS_KEY]) == 150_000
    assert 80_000 <= len(large[hotel.INVOICES_KEY]) <= 120_000
    guests_json = len(json.dumps(large[hotel.GUESTS_KEY], ensure_ascii=False).encode())
    assert 10_000_000 < guests_json < 30_000_000
