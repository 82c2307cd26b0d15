"""The sample hotel: a deterministic generator of realistic W3 Hotel PMS data.

    generate("small")  ->  {"w3-hotel-rooms": [...], "w3-hotel-guests": [...], ...}

Each KV key maps to the array of records the PMS stores under it (shapes as in the W3 PMS). The
same (size, seed) always gives the same data, on any machine and in Pyodide: the generator uses
only random.Random seeded per part, and a fixed "now" (timeline.NOW_MS), never the clock.
References hold: every reservation names an existing guest (and room, once assigned), every
invoice and folio an existing reservation and its guest; rooms are never double-booked; guests'
stay counts and spend add up from their checked-out reservations.

It feeds the demo's "Load sample hotel" action (GET /_backstay/sample), the tests and bench/.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.sample import billing, guests, reservations, rooms
from app.sample.dice import Dice

Record = dict[str, Any]

DEFAULT_SEED = 7
ROOMS_KEY = "w3-hotel-rooms"
GUESTS_KEY = "w3-hotel-guests"
RESERVATIONS_KEY = "w3-hotel-reservations"
INVOICES_KEY = "w3-hotel-finance-invoices"
FOLIOS_KEY = "w3-hotel-folios"
HOUSEKEEPING_KEY = "w3-hotel-housekeeping-tasks"
#: The KV keys generate() fills, in the order a loader should write them.
KEYS = (ROOMS_KEY, GUESTS_KEY, RESERVATIONS_KEY, INVOICES_KEY, FOLIOS_KEY, HOUSEKEEPING_KEY)


@dataclass(frozen=True)
class HotelSize:
    """How big a sample hotel is."""

    rooms: int
    floors: int
    guests: int
    reservations: int


SIZES: dict[str, HotelSize] = {
    "small": HotelSize(rooms=50, floors=5, guests=2_000, reservations=5_000),
    "large": HotelSize(rooms=500, floors=20, guests=50_000, reservations=150_000),
}


def sizes() -> tuple[str, ...]:
    """The valid values of generate()'s `size`, smallest first."""
    return tuple(SIZES)


def generate(size: str = "small", seed: int = DEFAULT_SEED) -> dict[str, list[Record]]:
    """The sample hotel of `size` ("small" or "large"); raises ValueError for any other size."""
    spec = SIZES.get(size)
    if spec is None:
        raise ValueError(f"unknown sample size {size!r}; expected one of {', '.join(SIZES)}")
    room_list = rooms.make_rooms(_rng(seed, "rooms"), spec.rooms, spec.floors)
    stays = reservations.make_stays(_rng(seed, "reservations"), room_list, spec.reservations, spec.guests)
    guest_list = _guests_for(_rng(seed, "guests"), stays, spec.guests)
    invoices, folios = billing.make_billing(_rng(seed, "billing"), stays)
    _count_stays(guest_list, stays, invoices)
    occupied = {s.record["roomId"] for s in stays if s.record["status"] == "checked-in"}
    rooms.set_statuses(_rng(seed, "room-status"), room_list, occupied)
    tasks = rooms.make_housekeeping_tasks(_rng(seed, "housekeeping"), room_list)
    return {
        ROOMS_KEY: room_list,
        GUESTS_KEY: guest_list,
        RESERVATIONS_KEY: [stay.record for stay in stays],
        INVOICES_KEY: invoices,
        FOLIOS_KEY: folios,
        HOUSEKEEPING_KEY: tasks,
    }


def _rng(seed: int, part: str) -> Dice:
    """An independent, reproducible stream per part, so changing one part leaves the others."""
    return Dice(f"backstay-sample/{seed}/{part}")


def _guests_for(dice: Dice, stays: list[reservations.Stay], count: int) -> list[Record]:
    """Guest profiles numbered in order of their first booking; fills each stay's guestId."""
    first_booked: dict[int, int] = {}
    for stay in stays:  # stays are in booking order: the first sighting is the earliest
        first_booked.setdefault(stay.guest_index, stay.record["createdAt"])
    order = sorted(range(count), key=lambda index: (first_booked.get(index, 0), index))
    ids = [""] * count
    guest_list: list[Record] = []
    for number, index in enumerate(order, start=1):
        ids[index] = f"gst-{number:06d}"
        created = first_booked.get(index, stays[0].record["createdAt"] if stays else 0)
        guest_list.append(guests.make_guest(dice, ids[index], created, created))
    for stay in stays:
        stay.record["guestId"] = ids[stay.guest_index]
    return guest_list


def _count_stays(guest_list: list[Record], stays: list[reservations.Stay], invoices: list[Record]) -> None:
    """Total each guest's checked-out stays (the invoice total where there is one)."""
    billed: dict[str, float] = {invoice["reservationId"]: invoice["total"] for invoice in invoices}
    totals: dict[str, tuple[int, float, int]] = {}
    for stay in stays:
        record = stay.record
        if record["status"] == "checked-out":
            count, spent, last = totals.get(record["guestId"], (0, 0.0, 0))
            amount = billed.get(record["id"], float(record["totalAmount"]))
            totals[record["guestId"]] = (count + 1, spent + amount, max(last, record["checkOutDate"]))
    for guest in guest_list:
        found = totals.get(guest["id"])
        if found is not None:
            guests.set_stay_totals(guest, *found)
