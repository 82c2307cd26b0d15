"""Reservations of the sample hotel (the W3 PMS Reservation shape).

Each room gets its own timeline of stays with gaps between them, so no room is ever double-booked;
stays run from HISTORY_DAYS before "now" to FUTURE_DAYS after it. Status follows from the dates:
past stays are checked out (or were cancelled / no-shows), current ones are checked in, future ones
are confirmed (or cancelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.sample.dice import Dice
from app.sample.names import CHANNEL_MANAGER, FRONT_DESK
from app.sample.timeline import CHECK_IN_HOUR, CHECK_OUT_HOUR, DAY_MS, HOUR_MS, NOW_MS, day_ms

Record = dict[str, Any]

HISTORY_DAYS = 1095
FUTURE_DAYS = 120
STAY_NIGHTS = (1, 1, 2, 2, 2, 3, 3, 3, 4, 5, 7)
_MEAN_NIGHTS = sum(STAY_NIGHTS) / len(STAY_NIGHTS)
#: Rate multiplier by month of arrival (January first).
SEASON = (1.25, 1.15, 1.1, 1.0, 0.85, 0.8, 1.1, 1.15, 0.9, 0.9, 1.0, 1.35)
SOURCES = ("direct",) * 4 + ("booking.com",) * 4 + ("expedia",) * 2 + ("agoda",) * 2 + (
    "walk-in", "phone", "phone", "corporate", "corporate", "travel-agent")
_ONLINE = {"booking.com", "expedia", "agoda"}
SPECIAL_REQUESTS = ("Late arrival, after 22:00", "Honeymoon: flowers in the room please",
                    "Baby cot needed", "Ground floor if possible", "Airport pickup at 06:30",
                    "Celebrating a birthday", "Allergic to nuts", "Adjoining rooms with family",
                    "Early check-in requested", "Needs invoice in company name")


@dataclass
class Stay:
    """A reservation with the facts the rest of the generator needs."""

    record: Record
    guest_index: int
    room: Record
    nights: int


def make_stays(dice: Dice, rooms: list[Record], count: int, guest_count: int) -> list[Stay]:
    """`count` stays spread over `rooms`, sorted by booking time, ids "res-000001"... in that order.

    guestId is left empty: the caller assigns guests once it has numbered them.
    """
    guests = _guest_indexes(dice, count, guest_count)
    stays: list[Stay] = []
    window = HISTORY_DAYS + FUTURE_DAYS
    for room_index, room in enumerate(rooms):
        per_room = count // len(rooms) + (1 if room_index < count % len(rooms) else 0)
        max_gap = max(0, round(2 * (window / max(per_room, 1) - _MEAN_NIGHTS)))
        day = -HISTORY_DAYS + dice.upto(max_gap)
        for _ in range(per_room):
            nights = dice.pick(STAY_NIGHTS)
            stays.append(_stay(dice, room, day, nights, guests[len(stays)]))
            day += nights + dice.upto(max_gap)
    stays.sort(key=lambda stay: stay.record["createdAt"])
    for number, stay in enumerate(stays, start=1):
        stay.record["id"] = f"res-{number:06d}"
    return stays


def _guest_indexes(dice: Dice, count: int, guest_count: int) -> list[int]:
    """Every guest stays at least once (when count allows); regulars come back often."""
    indexes = list(range(min(guest_count, count)))
    indexes += [int(guest_count * dice.random() ** 1.8) for _ in range(count - len(indexes))]
    dice.shuffle(indexes)
    return indexes


def _stay(dice: Dice, room: Record, day: int, nights: int, guest_index: int) -> Stay:
    check_in = day_ms(day, CHECK_IN_HOUR)
    check_out = day_ms(day + nights, CHECK_OUT_HOUR)
    lead_days = min(int(dice.exponential(21)), 300)
    created = check_in - lead_days * DAY_MS - dice.between(HOUR_MS, 20 * HOUR_MS, 60_000)
    if created > NOW_MS:
        created = NOW_MS - dice.between(HOUR_MS, 72 * HOUR_MS, 60_000)
    source = dice.pick(SOURCES)
    if source == "walk-in":
        created = min(check_in - dice.between(0, 3 * HOUR_MS, 60_000), NOW_MS - HOUR_MS)
    rate = round(room["baseRate"] * SEASON[(day % 365) * 12 // 365] * (0.9 if source in _ONLINE else 1.0))
    total = rate * nights
    adults = min(room["maxOccupancy"], dice.pick((1, 2, 2, 2, 2, 3)))
    children = min(room["maxOccupancy"] - adults, dice.pick((0, 0, 0, 0, 1, 2)))
    status, updated = _status(dice, check_in, check_out, created)
    record: Record = {
        "id": "",
        "guestId": "",
        "roomId": room["id"],
        "checkInDate": check_in,
        "checkOutDate": check_out,
        "adults": adults,
        "children": children,
        "status": status,
        "ratePerNight": rate,
        "totalAmount": total,
        "advancePaid": round(total * dice.pick((0, 0, 0.2, 0.5, 1.0))),
        "source": source,
    }
    if dice.random() < 0.18:
        record["specialRequests"] = dice.pick(SPECIAL_REQUESTS)
    if status == "confirmed" and dice.random() < 0.15:
        del record["roomId"]  # booked, room not assigned yet
    record["createdAt"] = created
    record["updatedAt"] = updated
    record["createdBy"] = CHANNEL_MANAGER if source in _ONLINE else dice.pick(FRONT_DESK)
    return Stay(record, guest_index, room, nights)


def _status(dice: Dice, check_in: int, check_out: int, created: int) -> tuple[str, int]:
    """(status, updatedAt) of a stay as of NOW_MS."""
    roll = dice.random()
    if check_out <= NOW_MS:
        if roll < 0.06:
            return "cancelled", _between(dice, created, min(check_in, NOW_MS))
        if roll < 0.09:
            return "no-show", check_in + 12 * HOUR_MS
        return "checked-out", check_out - dice.between(0, 2 * HOUR_MS, 60_000)
    if check_in <= NOW_MS:
        return "checked-in", check_in + dice.between(0, 4 * HOUR_MS, 60_000)
    if roll < 0.07:
        return "cancelled", _between(dice, created, NOW_MS)
    return "confirmed", created


def _between(dice: Dice, start: int, end: int) -> int:
    return start + dice.between(0, max(end - start, 60_000), 60_000)
