from __future__ import annotations

from app.core.diff.comparison import compare_states


def test_counts_and_field_differences_as_plain_data() -> None:
    a = {"w3-hotel-guests": [{"id": "g1", "name": "Ann", "tags": ["a"]}, {"id": "g2", "name": "Bo"}],
         "w3-hotel-rooms": [{"id": "101"}, {"id": "102"}], "gone": {"x": 1}}
    b = {"w3-hotel-guests": [{"id": "g1", "name": "Anne", "tags": ["a", "b"], "vip": True},
                             {"id": "g3", "name": "Cy"}],
         "w3-hotel-rooms": [{"id": "102"}, {"id": "101"}], "new": 5}
    result = compare_states("va", "vb", a, b).to_dict()
    assert result["a"] == "va" and result["b"] == "vb"
    assert result["totals"] == {"created": 2, "deleted": 2, "updated": 1}
    by_name = {module["module"]: module for module in result["modules"]}  # type: ignore[union-attr,index]
    guests = by_name["w3-hotel-guests"]
    assert (guests["created"], guests["deleted"], guests["updated"]) == (1, 1, 1)
    update = next(r for r in guests["records"] if r["action"] == "update")
    assert update["recordId"] == "g1"
    assert update["fields"] == [
        {"path": "/name", "op": "replace", "before": "Ann", "after": "Anne"},
        {"path": "/tags/1", "op": "add", "before": None, "after": "b"},
        {"path": "/vip", "op": "add", "before": None, "after": True},
    ]
    rooms = by_name["w3-hotel-rooms"]
    assert rooms["reordered"] is True and rooms["records"] == []
    assert by_name["gone"]["deleted"] == 1 and by_name["new"]["created"] == 1


def test_identical_states_compare_empty() -> None:
    state = {"k": [{"id": "1"}]}
    assert compare_states("a", "a", state, state).to_dict()["modules"] == []
