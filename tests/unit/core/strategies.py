"""Hypothesis strategies for W3-shaped records and for edits of record arrays."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from app.core.formats.json_value import RawNumber

Record = dict[str, Any]

#: Valid but unusual JSON: strings with lone surrogates (JavaScript's JSON.stringify writes
#: half an emoji as "\ud83d"), numbers beyond double range and integers beyond it.
lone_surrogates = st.sampled_from(["Zoë\ud83d", "\ude00", "\udfff\ud800", "\\\udc00"])
unusual_numbers = st.sampled_from([RawNumber("1e+400"), RawNumber("-1e+400"),
                                   RawNumber("1.5e+999"), 10**400, -(10**400) + 1])

names = st.sampled_from(["Ann", "Bob", "Chloé", "Dai", "Émile", "Fatma", "Gus", "Hana/x", "I~v",
                         "Zoë\ud83d"])
preferences = st.lists(st.sampled_from(["sea view", "late checkout", "vegan", "quiet", "crib"]),
                       max_size=4)
# As parse_json reads them: an integral number is an int (150.0 is the number 150).
money = st.one_of(st.integers(0, 100_000), st.floats(0, 10_000, allow_nan=False).map(
    lambda value: round(value, 2)).map(lambda value: int(value) if value.is_integer() else value),
    st.integers(0, 100_000), unusual_numbers)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), names, money, lone_surrogates)


def guest(record_id: str) -> st.SearchStrategy[Record]:
    optional = st.fixed_dictionaries({}, optional={
        "email": names.map(lambda name: f"{name.lower()}@example.com"),
        "nationality": st.sampled_from(["FR", "LK", "DE", "JP"]),
        "preferences": preferences,
        "address": st.fixed_dictionaries({"city": names, "lines": st.lists(names, max_size=2)}),
        "vip": st.one_of(st.booleans(), st.integers(0, 1)),
    })
    required = st.fixed_dictionaries({
        "id": st.just(record_id), "firstName": names, "lastName": names,
        "phone": st.text("0123456789", min_size=3, max_size=6),
        "loyaltyPoints": st.integers(0, 5000), "totalStays": st.integers(0, 40),
        "totalSpent": money, "createdAt": st.integers(1_600_000_000_000, 1_800_000_000_000),
    })
    return st.tuples(required, optional).map(lambda parts: {**parts[0], **parts[1]})


def reservation(record_id: str) -> st.SearchStrategy[Record]:
    return st.fixed_dictionaries({
        "id": st.just(record_id), "guestId": st.sampled_from(["g1", "g2", "g3"]),
        "status": st.sampled_from(["confirmed", "checked-in", "checked-out", "cancelled"]),
        "adults": st.integers(1, 4), "ratePerNight": money,
        "charges": st.lists(st.fixed_dictionaries({
            "id": st.sampled_from(["c1", "c2", "c3", "c4"]), "amount": money}),
            max_size=3, unique_by=lambda charge: charge["id"]),
    })


def record(record_id: str) -> st.SearchStrategy[Record]:
    return st.one_of(guest(record_id), reservation(record_id))


@st.composite
def record_array(draw: st.DrawFn, max_size: int = 8) -> list[Record]:
    count = draw(st.integers(0, max_size))
    return [draw(record(f"r{index}")) for index in range(count)]


@st.composite
def edited(draw: st.DrawFn, records: list[Record], fresh: int) -> list[Record]:
    """``records`` after a few random creates, updates, deletes and reorders."""
    result = [dict(item) for item in records]
    for step in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["create", "update", "delete", "reorder", "field"]))
        if action == "create" or not result:
            position = draw(st.integers(0, len(result)))
            result.insert(position, draw(record(f"n{fresh}-{step}")))
        elif action == "update":
            index = draw(st.integers(0, len(result) - 1))
            result[index] = draw(record(result[index]["id"]))
        elif action == "field":
            index = draw(st.integers(0, len(result) - 1))
            name = draw(st.sampled_from(["firstName", "vip", "preferences", "status", "x/y~z"]))
            if draw(st.booleans()) and name in result[index]:
                del result[index][name]
            else:
                result[index][name] = draw(st.one_of(scalars, preferences))
        elif action == "delete":
            del result[draw(st.integers(0, len(result) - 1))]
        else:
            result = draw(st.permutations(result))
    return result


json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(names, children, max_size=4)),
    max_leaves=12,
)
