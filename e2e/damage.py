"""Damage to Backstay's storage on disk, for the end-to-end tests: the files of the browser's
IndexedDB that a disk cleaner or a bad sector takes away, the writes that make them, and a disk
full to its last byte."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from harness import Server, status, wait_ready, wait_versions
from stores import STALE_HEADS_JS, open_origin_without_engine

#: Random (incompressible) notes of about 100 KB: a value IndexedDB keeps in a file of its own.
BIG_WRITE_JS = """(name) => window.spark.kv.set('w3-hotel-guests', [{id: 'g-1', firstName: name,
    notes: Array.from({length: 20000}, () => Math.random().toString(36).slice(2, 7)).join('')}])"""

#: Renames guest g-1, keeping its notes.
RENAME_JS = """async (name) => {
    const guests = await window.spark.kv.get('w3-hotel-guests');
    await window.spark.kv.set('w3-hotel-guests', [{...guests[0], firstName: name}]);
}"""


def started(page: Any, server: Server) -> Any:
    """``page`` with the PMS open, its first version (the baseline) recorded."""
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    return page


def files(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def blob_files(profile: Path) -> set[Path]:
    """The files of the browser profile ``profile`` that hold one IndexedDB value each."""
    return {path for path in files(profile / "Default" / "IndexedDB") if ".indexeddb.blob" in str(path)}


def head_texts_written(page: Any) -> None:
    deadline = time.monotonic() + 30
    while page.evaluate(STALE_HEADS_JS):
        assert time.monotonic() < deadline, "the head texts were not written"
        page.wait_for_timeout(200)
    page.wait_for_timeout(500)  # the replaced files are deleted


def version_files(page: Any, profile: Path, write: str, name: str, count: int) -> list[Path]:
    """Make the write ``write`` (``name`` its argument), wait for its version (the ``count``-th)
    and its head text; the two files it added to the history's database: its payload, then (once
    idle) the new head text of w3-hotel-guests. The browser numbers a database's files in the
    order it writes them; the journal's copy of the write, a file of the journal's database, is
    deleted once recorded (waited for)."""
    before = blob_files(profile)
    page.evaluate(write, name)
    wait_versions(page, count)
    head_texts_written(page)
    deadline = time.monotonic() + 30
    while len(made := blob_files(profile) - before) != 2 or len({p.parent for p in made}) != 1:
        assert time.monotonic() < deadline, made
        page.wait_for_timeout(200)
    return sorted(made, key=lambda path: int(path.name, 16))


def lose_history(page: Any, server: Server, profile: Path) -> None:
    """On ``page`` (its baseline recorded), a version whose payload is a file of its own; then
    every such file of the profile is deleted with no engine running, so the history lost what
    recording needs. The next write (g-1 renamed "Bea") waits, and the status says to start a
    new history."""
    page.evaluate(BIG_WRITE_JS, "Ann")
    wait_versions(page, 2)
    head_texts_written(page)
    open_origin_without_engine(page, server.url)
    lost = blob_files(profile)
    assert lost
    for path in lost:
        path.unlink()
    page.goto(server.url + "/")
    wait_ready(page)
    page.evaluate(RENAME_JS, "Bea")
    deadline = time.monotonic() + 30
    while "Start a new history" not in status(page)["lastError"]:
        assert time.monotonic() < deadline, status(page)
        page.wait_for_timeout(200)


def error(page: Any, call: str) -> str:
    """The message ``call`` (a promise of window.backstay) is refused with, or 'resolved'."""
    return str(page.evaluate(f"() => {call}.then(() => 'resolved', (e) => e.message)"))


def fill(disk: Path) -> Path:
    """Fill the file system ``disk`` to its last byte; the filler, to free the space later."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        chunk = b"\0" * (1024 * 1024)
        while chunk:
            try:
                out.write(chunk)
            except OSError:
                chunk = chunk[: len(chunk) // 2]
    assert shutil.disk_usage(disk).free < 64 * 1024, shutil.disk_usage(disk)
    return filler
