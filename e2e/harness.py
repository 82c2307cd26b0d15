"""What the end-to-end tests share: the real server in a subprocess, and page helpers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
ENGINE_TIMEOUT_MS = 60_000

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """The real Backstay server in a subprocess."""

    data: Path
    user: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None
    #: The module run as the server (the bench runs one serving its own copy of the site).
    module: str = "app.server"
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "BACKSTAY_PORT": str(self.port), "BACKSTAY_DATA": str(self.data), **self.user,
               **self.env}
        log = open(self.data / "server.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen([sys.executable, "-m", self.module], cwd=ROOT, env=env,
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/_spark/kv", timeout=1).read()
                return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError(f"the server did not start: {(self.data / 'server.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    # The store, as seen over HTTP (not through the page: these writes are not captured).
    def kv_get(self, key: str) -> Any:
        try:
            with urllib.request.urlopen(f"{self.url}/_spark/kv/{quote(key, safe='')}") as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    def kv_get_text(self, key: str) -> str | None:
        """The JSON text the store holds for ``key``, exactly (None when absent)."""
        try:
            with urllib.request.urlopen(f"{self.url}/_spark/kv/{quote(key, safe='')}") as response:
                return str(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    def kv_set(self, key: str, value: Any) -> None:
        self.kv_set_text(key, json.dumps(value))

    def kv_set_text(self, key: str, text: str) -> None:
        """Store JSON text as it is (as a client other than the PMS might write it)."""
        request = urllib.request.Request(
            f"{self.url}/_spark/kv/{quote(key, safe='')}", data=text.encode(),
            method="POST", headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(request).read()

    def kv_delete(self, key: str) -> None:
        request = urllib.request.Request(f"{self.url}/_spark/kv/{quote(key, safe='')}", method="DELETE")
        urllib.request.urlopen(request).read()


@dataclass
class RequestLog:
    urls: list[str] = field(default_factory=list)

    def outside(self, origin: str) -> list[str]:
        return [url for url in self.urls if not (url.startswith(origin + "/") or url.startswith("blob:")
                                                 or url.startswith("data:"))]


def wait_ready(page: Any) -> None:
    page.wait_for_function("() => window.backstay !== undefined", timeout=ENGINE_TIMEOUT_MS)
    page.evaluate("() => window.backstay.ready")


def create_guest_through_the_ui(page: Any, first: str, last: str, phone: str) -> None:
    """Creates a guest with the demo PMS's own form (Guests, New, Save)."""
    page.get_by_test_id("nav-guests").click()
    page.get_by_test_id("new-record").click()
    form = page.get_by_test_id("record-form")
    form.locator('[name="firstName"]').fill(first)
    form.locator('[name="lastName"]').fill(last)
    form.locator('[name="phone"]').fill(phone)
    page.get_by_test_id("save-record").click()


def choose_service_worker(page: Any, *, reload_under_it: bool = True) -> None:
    """Chooses capture in Backstay's service worker for this browser (localStorage
    "backstay:capture"): the next load registers it, and the load after that is controlled by
    it (unless ``reload_under_it`` is False: the page then stays one that records itself)."""
    page.evaluate("() => localStorage.setItem('backstay:capture', 'service-worker')")
    page.reload()
    wait_ready(page)
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    if reload_under_it:
        page.reload()
        wait_ready(page)
        assert page.evaluate("() => window.__backstayCapture.writer()") == "service-worker"


#: Who records the PMS's writes: the page itself (its journal worker), or Backstay's service
#: worker (chosen for this browser, and the page loaded again under it).
RECORDERS = ("worker", "service-worker")


def recorded_by(page: Any, recorder: str) -> None:
    """Makes ``recorder`` record this open page's writes (choosing the service worker reloads
    the page twice) and checks that it does."""
    if recorder == "service-worker":
        choose_service_worker(page)
    assert page.evaluate("() => window.__backstayCapture.writer()") == recorder


def versions(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate("() => window.backstay.listVersions()"))


JOURNAL_JS = """() => new Promise((resolve) => {
  const req = indexedDB.open('backstay-journal');
  req.onsuccess = () => {
    const db = req.result;
    if (!db.objectStoreNames.contains('entries')) { resolve([]); return; }
    const all = db.transaction('entries').objectStore('entries').getAll();
    all.onsuccess = () => resolve(all.result.map((e) => ({...e,
      body: typeof e.body === 'string' ? e.body.length : (e.body ? e.body.size : null)})));
  };
  req.onerror = () => resolve(String(req.error));
})"""


def diagnostics(page: Any) -> str:
    """What the engine and the journal say: attached to a failed wait."""
    status = page.evaluate("() => window.backstay.status()")
    journal = page.evaluate(JOURNAL_JS)
    capture = page.evaluate("() => window.__backstayCapture.stats")
    return f"engine status: {status}; capture: {capture}; journal: {journal}"


STATUS_JS = "async () => JSON.parse(JSON.stringify(await window.backstay.status()))"


def status(page: Any) -> dict[str, Any]:
    return dict(page.evaluate(STATUS_JS))


def wait_status(page: Any, check: Any, what: str, timeout_s: float = 60) -> dict[str, Any]:
    """Poll the engine's status until ``check`` holds; fail saying ``what`` was not seen."""
    deadline = time.monotonic() + timeout_s
    found: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            found = status(page)
        except Exception:  # the facade not there yet
            found = {}
        if found and check(found):
            return found
        page.wait_for_timeout(200)
    raise AssertionError(f"{what}: not seen in {timeout_s} s; status {json.dumps(found)}")


def wait_for(page: Any, check: Callable[[], Any], what: str, timeout_s: float = 45) -> Any:
    """Polls ``check`` every 200 ms until it gives something true, and returns that."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; status: {status(page)}")
        page.wait_for_timeout(200)


def head_state(page: Any) -> dict[str, Any]:
    """The state of the newest version ({} while the history has none)."""
    found = versions(page)
    if not found:  # a history that starts again has no version for a moment
        return {}
    return dict(page.evaluate("id => window.backstay.stateAt(id)", found[0]["id"]))


def settled(page: Any, server: Server, key: str) -> bool:
    """The engine has drained everything and its head holds what the store holds."""
    state = status(page)
    return state["waiting"] == 0 and head_state(page).get(key) == server.kv_get(key)


def settled_history(page: Any, server: Server, key: str) -> list[dict[str, Any]]:
    """Waits (up to 30 s) until ``settled``; returns the history, newest first."""
    wait_for(page, lambda: settled(page, server, key), "the history to end with the store's value",
             timeout_s=30)
    return versions(page)


def wait_versions(page: Any, count: int, timeout_s: float = 30) -> list[dict[str, Any]]:
    """Wait until the engine lists at least ``count`` versions; return them (newest first).

    Fails with the engine's and the journal's state when they do not appear in time.
    """
    deadline = time.monotonic() + timeout_s
    found = versions(page)
    while len(found) < count and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        found = versions(page)
    if len(found) < count:
        raise AssertionError(f"{len(found)} versions after {timeout_s} s, expected {count}; "
                             f"{diagnostics(page)}")
    return found
