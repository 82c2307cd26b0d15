"""Invoices and folios of the sample hotel.

Invoices (key w3-hotel-finance-invoices; untyped in the PMS): one per checked-out stay of the last
INVOICE_DAYS days, and a draft for each guest in house. Line items are the room nights plus the
extras the stay consumed. Folios (the W3 PMS Folio shape) exist for guests in house and for stays
checked out in the last FOLIO_DAYS days; their charges are the same as the invoice's.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime
from typing import Any

from app.sample.dice import Dice
from app.sample.names import CASHIERS, FRONT_DESK
from app.sample.reservations import Stay
from app.sample.timeline import DAY_MS, HOUR_MS, NOW_MS

Record = dict[str, Any]

TAX_RATE = 0.10
INVOICE_DAYS = 900
FOLIO_DAYS = 30
#: (description, department, unit price, per night?)
EXTRAS = (
    ("Breakfast buffet", "restaurant", 18.0, True),
    ("Minibar", "room-service", 12.5, False),
    ("Laundry service", "housekeeping", 22.0, False),
    ("Spa treatment", "spa", 85.0, False),
    ("Airport transfer", "transport", 40.0, False),
    ("Dinner at the restaurant", "restaurant", 46.0, False),
    ("Room service", "room-service", 27.0, False),
    ("Late check-out", "front-office", 35.0, False),
)
PAYMENT_METHODS = ("card", "card", "card", "cash", "bank-transfer", "online")

#: One charge line: (description, department, quantity, unit price).
Line = tuple[str, str, int, float]


def lines_for(dice: Dice, stay: Stay) -> list[Line]:
    """What a stay is billed for: its room nights, then 0-3 extras."""
    room = stay.record.get("roomId", "").removeprefix("room-")
    lines: list[Line] = [(f"Room {room} ({stay.room['roomType']})", "rooms", stay.nights,
                          float(stay.record["ratePerNight"]))]
    for extra in dice.pick_some(EXTRAS, dice.pick((0, 0, 1, 1, 2, 3))):
        description, department, price, per_night = extra
        quantity = stay.nights if per_night else dice.between(1, 3)
        lines.append((description, department, quantity, price))
    return lines


def make_billing(dice: Dice, stays: list[Stay]) -> tuple[list[Record], list[Record]]:
    """(invoices, folios) for `stays`, each in creation order."""
    invoice_from = NOW_MS - INVOICE_DAYS * DAY_MS
    folio_from = NOW_MS - FOLIO_DAYS * DAY_MS
    invoices: list[Record] = []
    folios: list[Record] = []
    for stay in stays:
        status, check_out = stay.record["status"], stay.record["checkOutDate"]
        in_house = status == "checked-in"
        if not (in_house or (status == "checked-out" and check_out >= invoice_from)):
            continue
        lines = lines_for(dice, stay)
        invoices.append(_invoice(dice, stay, lines))
        if in_house or check_out >= folio_from:
            folios.append(_folio(dice, stay, lines, f"fol-{len(folios) + 1:06d}"))
    invoices.sort(key=lambda invoice: invoice["issueDate"])
    per_year: dict[int, int] = {}
    for number, invoice in enumerate(invoices, start=1):
        year = _year_of(invoice["issueDate"])
        per_year[year] = per_year.get(year, 0) + 1
        invoice["id"] = f"inv-{number:06d}"
        invoice["invoiceNumber"] = f"INV-{year}-{per_year[year]:05d}"
        for index, item in enumerate(invoice["lineItems"], start=1):
            item["id"] = f"{invoice['id']}-{index}"
    return invoices, folios


def _year_of(epoch_ms: int) -> int:
    """The UTC calendar year of `epoch_ms` (1970-2099)."""
    return 1970 + bisect_right(_YEAR_STARTS, epoch_ms) - 1


_YEAR_STARTS = [int(datetime(year, 1, 1, tzinfo=UTC).timestamp() * 1000) for year in range(1970, 2100)]


def _invoice(dice: Dice, stay: Stay, lines: list[Line]) -> Record:
    record = stay.record
    amounts = [round(q * p, 2) for _, _, q, p in lines]
    items: list[Record] = [
        {"id": "", "description": d, "quantity": q, "unitPrice": p, "amount": amount}
        for (d, _, q, p), amount in zip(lines, amounts, strict=True)
    ]
    subtotal = round(sum(amounts), 2)
    tax = round(subtotal * TAX_RATE, 2)
    if record["status"] == "checked-in":
        status, issued = "draft", record["checkInDate"]
    else:
        issued = record["checkOutDate"]
        roll, recent = dice.random(), issued > NOW_MS - 30 * DAY_MS
        status = ("issued" if roll < 0.4 else "paid") if recent else (
            "void" if roll < 0.02 else "issued" if roll < 0.05 else "paid")
    updated = issued
    if status in ("paid", "void"):
        updated = min(issued + dice.between(0, 10 * DAY_MS, HOUR_MS), NOW_MS)
    return {
        "id": "",
        "invoiceNumber": "",
        "guestId": record["guestId"],
        "reservationId": record["id"],
        "lineItems": items,
        "subtotal": subtotal,
        "tax": tax,
        "total": round(subtotal + tax, 2),
        "status": status,
        "issueDate": issued,
        "dueDate": issued + 14 * DAY_MS,
        "createdAt": issued,
        "updatedAt": updated,
    }


def _folio(dice: Dice, stay: Stay, lines: list[Line], folio_id: str) -> Record:
    record = stay.record
    start, end = record["checkInDate"], min(record["checkOutDate"], NOW_MS)
    charges = []
    for index, (description, department, quantity, price) in enumerate(lines, start=1):
        charges.append({
            "id": f"{folio_id}-c{index}",
            "folioId": folio_id,
            "description": description,
            "amount": round(quantity * price, 2),
            "quantity": quantity,
            "department": department,
            "timestamp": start + dice.between(0, max(end - start, HOUR_MS), 60_000),
            "postedBy": dice.pick(FRONT_DESK),
        })
    charged = round(sum(charge["amount"] for charge in charges) * (1 + TAX_RATE), 2)
    paid_amounts = [float(record["advancePaid"])] if record["advancePaid"] else []
    if record["status"] == "checked-out":
        paid_amounts.append(round(charged - sum(paid_amounts), 2))
    payments = []
    for index, amount in enumerate(a for a in paid_amounts if a > 0):
        method = dice.pick(PAYMENT_METHODS)
        payment: dict[str, Any] = {
            "id": f"{folio_id}-p{index + 1}",
            "folioId": folio_id,
            "amount": amount,
            "method": method,
            "status": "completed",
            "timestamp": record["createdAt"] if index == 0 and record["advancePaid"] else end,
            "receivedBy": dice.pick(CASHIERS),
        }
        if method != "cash":
            payment["reference"] = f"AUTH-{dice.between(100000, 999999)}"
        payments.append(payment)
    return {
        "id": folio_id,
        "reservationId": record["id"],
        "guestId": record["guestId"],
        "charges": charges,
        "payments": payments,
        "balance": round(charged - sum(p["amount"] for p in payments), 2),
        "createdAt": start,
        "updatedAt": max([start] + [c["timestamp"] for c in charges] + [p["timestamp"] for p in payments]),
    }
