"""Problems: what currently keeps Backstay from recording, by area, each with what to do.

The engine reports and clears them; every change is announced (the drainer broadcasts its
status so that every tab's banner shows it). Notices (app/browser/notices.py) are the ones an
admin must read even after they are over.
"""

from __future__ import annotations

from collections.abc import Callable

STORAGE_FULL = ("Storage full: delete old versions or free space in this browser; the waiting "
                "writes are recorded once there is room")
STORE_DOWN = ("The PMS data server did not answer; Backstay retries by itself and records the "
              "waiting writes once it is back")
RETRYING = "It tries again by itself; if this persists, reload the page"
DATA_LOST = ("Backstay stopped recording: part of its history in this browser was lost from the "
             "disk (files of the browser's storage are gone or damaged) and cannot be rebuilt. The "
             "PMS's data itself is safe on its server, and the writes made meanwhile wait in the "
             "journal. Reloading does not help: export the older versions you need that can still "
             "be read (Backup files), then start a new history there (Backup files: \"Start a new "
             "history\"; it needs the permission to delete versions). Backstay keeps its "
             "settings, permissions and audit trail, and starts the new history from today's data")
DATA_LOST_READ = ("Part of Backstay's history in this browser was lost from the disk (files of "
                  "the browser's storage are gone or damaged): what needs it cannot be read, "
                  "now or later, and trying again does not help. Versions that do not need it "
                  "can still be read and exported (Backup files); if this happens again, check "
                  "this computer's disk")
NOT_LOST = ("Backstay's history in this browser is not damaged, so no new history was started: a "
            "new history is only for one that lost what recording needs")
NEW_HISTORY_NOTICE = "new-history"


def new_history_message(user: str, versions: int, restore_pending: bool, lost: list[str]) -> str:
    """The notice (and audit message) of a new history started by ``user`` in place of one that
    held ``versions`` versions (``restore_pending``: a restore was being written then; ``lost``:
    records to keep that were lost too, and removed)."""
    text = (f"{user} started a new history: the previous one ({versions} versions) had lost part "
            "of itself from this browser's disk, so Backstay could not record on it. Its versions "
            "are gone from this browser, except those exported before; today's data is the new "
            "history's first version. The settings, permissions, encryption passphrase and audit "
            "trail were kept as they were.")
    if lost:
        text += (f" These of them were lost from the disk too, and are back to their defaults: "
                 f"{', '.join(lost)}.")
    if restore_pending:
        text += (" A restore was being written when the history was damaged and could not be "
                 "finished or undone: check that today's data is as it should be.")
    return text


class ApiError(Exception):
    """A request of the API that cannot be answered; its message is for the caller."""


class Problems:
    def __init__(self, announce: Callable[[], None]) -> None:
        self._by_area: dict[str, str] = {}
        self._announce = announce

    def report(self, area: str, message: str) -> None:
        if self._by_area.get(area) != message:
            self._by_area[area] = message
            self._announce()

    def clear(self, *areas: str) -> None:
        if any(self._by_area.pop(area, None) is not None for area in areas):
            self._announce()

    def items(self) -> list[dict[str, str]]:
        return [{"area": area, "message": message} for area, message in self._by_area.items()]

    def text(self) -> str:
        return "; ".join(self._by_area.values())


def describe(error: BaseException) -> str:
    """An error as one line: its type and message."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
