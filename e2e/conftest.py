"""Fixtures for the end-to-end suite: the real server (a subprocess, on a free port, with its own
SQLite data directory) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import CHROMIUM, CHROMIUM_ARGS, ROOT, RequestLog, Server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(ROOT / "e2e"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(data=tmp_path / "data")
    srv.data.mkdir()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def fault_server(tmp_path: Path) -> Iterator[Server]:
    """The real server with its test-only fault switch on (app/server/faults.py)."""
    srv = Server(data=tmp_path / "data", user={"BACKSTAY_FAULTS": "1"})
    srv.data.mkdir()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def disk_page(browser_type: Any, browser_type_launch_args: dict[str, Any], tmp_path: Path) -> Iterator[Any]:
    """A page of a fresh on-disk profile (IndexedDB on disk, real quota), like a user's browser."""
    context = browser_type.launch_persistent_context(str(tmp_path / "profile"), **browser_type_launch_args)
    yield context.pages[0] if context.pages else context.new_page()
    context.close()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 MiB file system (tmpfs) for a browser profile: the browser really runs out of
    space there. Mounting needs root, as the test machines are."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"mounting a small tmpfs for the storage-full test needs root: {done.stderr}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def requests_seen(context: Any) -> RequestLog:
    log = RequestLog()
    context.on("request", lambda request: log.urls.append(request.url))
    return log


@pytest.fixture
def clerk_server(tmp_path: Path) -> Iterator[Server]:
    """The server with a front-desk clerk signed in (not an administrator)."""
    srv = Server(data=tmp_path / "clerk-data",
                 user={"BACKSTAY_USER_LOGIN": "frontdesk", "BACKSTAY_USER_OWNER": "0"})
    srv.data.mkdir()
    srv.start()
    yield srv
    srv.stop()
