"""Rooms and housekeeping tasks of the sample hotel (W3 PMS Room and HousekeepingTask shapes)."""

from __future__ import annotations

from typing import Any

from app.sample.dice import Dice
from app.sample.names import HOUSEKEEPERS
from app.sample.timeline import HOUR_MS, NOW_MS

Record = dict[str, Any]

#: roomType -> (base rate, max occupancy, amenities)
ROOM_TYPES: dict[str, tuple[int, int, tuple[str, ...]]] = {
    "standard": (95, 2, ("wifi", "tv", "air-conditioning", "safe")),
    "deluxe": (140, 3, ("wifi", "tv", "air-conditioning", "safe", "minibar", "balcony")),
    "executive": (210, 3, ("wifi", "tv", "air-conditioning", "safe", "minibar", "work-desk",
                           "lounge-access", "coffee-machine")),
    "suite": (320, 4, ("wifi", "tv", "air-conditioning", "safe", "minibar", "balcony", "bathtub",
                       "living-room", "sea-view", "coffee-machine")),
    "presidential": (900, 6, ("wifi", "tv", "air-conditioning", "safe", "minibar", "balcony",
                              "jacuzzi", "living-room", "dining-room", "sea-view", "butler-service")),
}
ROOM_NOTES = ("Connecting door to next room", "Recently renovated", "Accessible bathroom",
              "Noisy AC reported, check", "Pool view", "Extra bed available")
TASK_NOTES = ("Guest requested extra towels", "Check minibar", "VIP arrival, amenities set-up",
              "Stain on carpet", "Replace shower curtain")


def room_type_for(floor: int, floors: int, position: int, per_floor: int) -> str:
    """Cheaper rooms low down, suites high up, the presidential suite at the top corner."""
    if floor == floors and position == per_floor:
        return "presidential"
    share = floor / floors
    if share > 0.85 and position > per_floor - 3:
        return "suite"
    if share > 0.6:
        return "executive" if position % 3 else "suite"
    if share > 0.3:
        return "deluxe" if position % 4 else "executive"
    return "standard" if position % 5 else "deluxe"


def make_rooms(dice: Dice, count: int, floors: int) -> list[Record]:
    """`count` rooms over `floors` floors, numbered 101, 102, ... (status set later)."""
    per_floor = -(-count // floors)
    rooms: list[Record] = []
    for index in range(count):
        floor, position = index // per_floor + 1, index % per_floor + 1
        room_type = room_type_for(floor, floors, position, per_floor)
        rate, occupancy, amenities = ROOM_TYPES[room_type]
        number = f"{floor}{position:02d}"
        room: Record = {
            "id": f"room-{number}",
            "roomNumber": number,
            "floor": floor,
            "roomType": room_type,
            "status": "vacant-clean",
            "baseRate": rate + 5 * (floor // 3),
            "maxOccupancy": occupancy,
            "amenities": list(amenities),
            "lastCleaned": NOW_MS - dice.between(2 * HOUR_MS, 72 * HOUR_MS, 60_000),
        }
        if dice.random() < 0.7:
            room["assignedHousekeeper"] = dice.pick(HOUSEKEEPERS)
        if dice.random() < 0.08:
            room["notes"] = dice.pick(ROOM_NOTES)
        rooms.append(room)
    return rooms


def set_statuses(dice: Dice, rooms: list[Record], occupied: set[str]) -> None:
    """Give each room a status consistent with who is in house today."""
    for room in rooms:
        roll = dice.random()
        if room["id"] in occupied:
            room["status"] = "occupied-clean" if roll < 0.6 else "occupied-dirty"
        elif roll < 0.02:
            room["status"] = "maintenance"
        elif roll < 0.03:
            room["status"] = "out-of-order"
        else:
            room["status"] = "vacant-clean" if roll < 0.8 else "vacant-dirty"


def make_housekeeping_tasks(dice: Dice, rooms: list[Record]) -> list[Record]:
    """Today's housekeeping board: dirty rooms to clean, plus inspections and turndowns."""
    tasks: list[Record] = []
    for room in rooms:
        status = room["status"]
        if status.endswith("dirty"):
            kinds = ["clean"]
        elif status.startswith("occupied"):
            kinds = ["turndown"] if dice.random() < 0.5 else []
        elif status == "vacant-clean":
            kinds = ["inspection"] if dice.random() < 0.15 else []
        else:
            kinds = ["deep-clean"]
        for kind in kinds:
            created = NOW_MS - dice.between(HOUR_MS, 10 * HOUR_MS, 60_000)
            task: Record = {
                "id": f"hk-{len(tasks) + 1:05d}",
                "roomId": room["id"],
                "taskType": kind,
                "status": "pending",
                "priority": dice.pick(("normal", "normal", "normal", "high", "urgent")),
                "createdAt": created,
            }
            roll = dice.random()
            if roll < 0.75:
                task["assignedTo"] = room.get("assignedHousekeeper") or dice.pick(HOUSEKEEPERS)
            if roll < 0.45:
                task["status"] = "in-progress"
                task["startedAt"] = created + dice.between(10 * 60_000, HOUR_MS, 60_000)
            if roll < 0.2:
                task["status"] = "completed"
                task["completedAt"] = task["startedAt"] + dice.between(15 * 60_000, 90 * 60_000, 60_000)
            if dice.random() < 0.15:
                task["notes"] = dice.pick(TASK_NOTES)
            tasks.append(task)
    return tasks
