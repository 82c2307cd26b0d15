"""Guests of the sample hotel (the W3 PMS Guest shape), with names, contacts and documents that
fit their country, and stay statistics that agree with their reservations."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

from app.sample.dice import Dice
from app.sample.names import EMAIL_DOMAINS, REGIONS, Region

Record = dict[str, Any]

PREFERENCES = ("non-smoking", "high floor", "low floor", "quiet room", "extra pillows",
               "late check-out", "early check-in", "twin beds", "king bed", "vegetarian meals",
               "airport pickup", "sea view", "feather-free bedding", "newspaper")
HOME_COUNTRY = REGIONS[0].country
_REGION_POOL: tuple[Region, ...] = tuple(region for region in REGIONS for _ in range(region.weight))


@lru_cache(maxsize=4096)
def ascii_fold(text: str) -> str:
    """'Müller' -> 'muller', "O'Brien" -> 'obrien', 'de Alwis' -> 'dealwis' (for email addresses)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def make_guest(dice: Dice, guest_id: str, created_at: int, updated_at: int) -> Record:
    """One guest profile; stay statistics start at zero (see add_stay)."""
    region = dice.pick(_REGION_POOL)
    first, last = dice.pick(region.first_names), dice.pick(region.last_names)
    guest: Record = {"id": guest_id, "firstName": first, "lastName": last}
    if dice.random() < 0.9:
        suffix = str(dice.between(1, 100)) if dice.random() < 0.5 else ""
        local_part = f"{ascii_fold(first)}{dice.pick(('.', '', '_'))}{ascii_fold(last)}{suffix}"
        guest["email"] = f"{local_part}@{dice.pick(EMAIL_DOMAINS)}"
    area, exchange, line = dice.between(10, 99), dice.between(100, 999), dice.between(1000, 9999)
    guest["phone"] = f"+{region.phone_code} {area} {exchange} {line}"
    if dice.random() < 0.95:
        guest["nationality"] = region.nationality
    if dice.random() < 0.85:
        local = region.country == HOME_COUNTRY
        if local and dice.random() < 0.8:
            guest["idType"] = "national-id"
            guest["idNumber"] = f"{dice.between(10**11, 10**12)}"
        elif dice.random() < 0.9:
            guest["idType"] = "passport"
            guest["idNumber"] = f"{chr(65 + dice.between(0, 26))}{dice.between(10**7, 10**8)}"
        else:
            guest["idType"] = "driving-license"
            guest["idNumber"] = f"DL-{dice.between(10**6, 10**7)}"
    if dice.random() < 0.75:
        number, street, city = dice.between(1, 400), dice.pick(region.streets), dice.pick(region.cities)
        guest["address"] = f"{number} {street}, {city}, {region.country}"
    if dice.random() < 0.55:
        guest["preferences"] = dice.pick_some(PREFERENCES, dice.between(1, 4))
    guest["loyaltyPoints"] = 0
    guest["totalStays"] = 0
    guest["totalSpent"] = 0
    guest["createdAt"] = created_at
    guest["updatedAt"] = updated_at
    return guest


def set_stay_totals(guest: Record, stays: int, spent: float, last_stay_end: int) -> None:
    """Record `stays` completed stays worth `spent` in all (1 loyalty point per 10 spent)."""
    guest["totalStays"] = stays
    guest["totalSpent"] = round(spent, 2)
    guest["loyaltyPoints"] = int(spent // 10)
    guest["updatedAt"] = max(guest["updatedAt"], last_stay_end)
