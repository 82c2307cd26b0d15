"""Coordination between tabs: one engine drains the journal (Web Locks), every tab hears of new
journal entries and new versions (BroadcastChannel), and a tab whose engine does not drain asks
the one that does to carry out what must not run twice at once (a restore)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from app.browser.ffi import create_proxy, js_value, py_value

ENGINE_LOCK = "backstay-engine"
JOURNAL_CHANNEL = "backstay-journal"
VERSIONS_CHANNEL = "backstay-versions"
REQUESTS_CHANNEL = "backstay-requests"
#: How long a request waits for the draining engine to take it up, and for its answer.
ACCEPT_SECONDS = 5.0
ANSWER_SECONDS = 15 * 60.0
#: Carries out another tab's request: (kind, args, the user signed in there) -> JSON text.
Handler = Callable[[str, list[Any], dict[str, Any] | None], Awaitable[str]]


class NoDrainer(Exception):
    """No engine took up a request (the draining tab is busy starting, or was just closed)."""


class Coordination:
    def __init__(self, idb: Any) -> None:
        self._idb = idb
        self._release: Any = None
        self._proxies: list[Any] = []
        self._channels: list[Any] = []
        self._asked: dict[str, tuple[asyncio.Event, asyncio.Future[str]]] = {}
        self._asking = False
        #: Other tabs' requests this engine has taken up and not yet answered.
        self.serving = 0
        self._serving_stopped = False

    async def become_drainer(self) -> None:
        """Wait until this tab's engine holds the engine lock; it keeps it until the tab closes."""
        self._release = await self._idb.acquireLock(ENGINE_LOCK)

    def on_journal(self, wake: asyncio.Event, heard: Callable[[dict[str, Any]], None]) -> None:
        """Pass on every journal message: ``{type: "journal", seq}`` for an entry stored or
        settled, ``{type: "intent", key, collection, start, tab}`` for a write at its call,
        ``{type: "settled", writes}`` for intents the draining engine settled,
        ``{type: "unjournaled", key, collection, start, tab, error}`` for a write whose entry
        its tab could not store (anything else only wakes the engine)."""
        def each(message: Any) -> None:
            if isinstance(message, dict):
                heard(message)
            else:
                wake.set()
        self.listen(JOURNAL_CHANNEL, each)

    def on_status(self, heard: Callable[[dict[str, Any]], None]) -> None:
        """Pass on the draining engine's status each time it broadcasts it."""
        def each(message: Any) -> None:
            if isinstance(message, dict) and message.get("type") == "status" and isinstance(
                    message.get("status"), dict):
                heard(message["status"])
        self.listen(VERSIONS_CHANNEL, each)

    def tell_journal(self, message: dict[str, Any]) -> None:
        """Say ``message`` on the journal channel (to every engine, this one's listener too)."""
        self._idb.broadcast(JOURNAL_CHANNEL, js_value(message))

    def listen(self, channel: str, callback: Callable[[Any], None]) -> None:
        proxy = create_proxy(lambda data: callback(py_value(data)))
        self._proxies.append(proxy)
        self._channels.append(self._idb.listen(channel, proxy))

    def announce_version(self, version: dict[str, Any]) -> None:
        self._idb.broadcast(VERSIONS_CHANNEL, js_value({"type": "version", "version": version}))

    def announce_status(self, status: dict[str, Any]) -> None:
        """Tell every tab the drainer's status (its problems are shown in each PMS page)."""
        self._idb.broadcast(VERSIONS_CHANNEL, js_value({"type": "status", "status": status}))

    def announce_deleted(self, version_ids: list[str]) -> None:
        """Tell every tab that versions were deleted (their panels list the versions again)."""
        self._idb.broadcast(VERSIONS_CHANNEL, js_value({"type": "deleted", "versionIds": version_ids}))

    def announce_restored(self, version: dict[str, Any], keys: list[str]) -> None:
        """Tell every tab that a restore changed ``keys`` behind the PMS's back (facade.js
        turns it into the page event ``backstay:restored``)."""
        self._idb.broadcast(VERSIONS_CHANNEL, js_value(
            {"type": "restored", "version": version, "keys": keys}))

    # ---- requests to the draining engine ----------------------------------------------------

    def serve(self, handle: Handler) -> None:
        """Carry out the requests of other tabs (this engine drains): ``handle(kind, args,
        user)`` answers JSON text, which goes back to the asking tab; ``user`` is who is signed
        in there (/_spark/user), for whom it is done."""
        def heard(message: Any) -> None:
            if self._serving_stopped or not (isinstance(message, dict) and message.get("type") == "request"):
                return
            request_id = str(message.get("id"))
            sent = message.get("sent")
            if not isinstance(sent, int | float) or time.time() * 1000 - sent > ACCEPT_SECONDS * 1000:
                return  # the asking tab has given up on it (or it is not ours): never run it late
            self._idb.broadcast(REQUESTS_CHANNEL, js_value({"type": "accepted", "id": request_id}))
            self.serving += 1

            async def run() -> None:
                try:
                    user = message.get("user")
                    answer = await handle(str(message.get("kind")), list(message.get("args") or []),
                                          user if isinstance(user, dict) else None)
                except Exception as error:  # noqa: BLE001 - the asking tab must always hear back
                    answer = json.dumps({"error": f"Backstay could not do it: {error}"})
                finally:
                    self.serving -= 1
                self._idb.broadcast(REQUESTS_CHANNEL, js_value(
                    {"type": "answer", "id": request_id, "answer": answer}))
            asyncio.ensure_future(run())
        self.listen(REQUESTS_CHANNEL, heard)

    def stop_serving(self) -> None:
        """Take up no more requests of other tabs (this engine's worker is about to be stopped:
        the engine that drains next takes them up)."""
        self._serving_stopped = True

    async def ask(self, kind: str, args: list[Any], user: dict[str, Any]) -> str:
        """Have the draining engine carry out ``kind(*args)`` for ``user``; its JSON text
        answer. NoDrainer when no engine takes it up within ACCEPT_SECONDS."""
        if not self._asking:
            self.listen(REQUESTS_CHANNEL, self._heard_answer)
            self._asking = True
        request_id = secrets.token_hex(8)
        accepted: asyncio.Event = asyncio.Event()
        answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._asked[request_id] = (accepted, answer)
        try:
            self._idb.broadcast(REQUESTS_CHANNEL, js_value(
                {"type": "request", "id": request_id, "kind": kind, "args": args, "user": user,
                 "sent": int(time.time() * 1000)}))
            try:
                await asyncio.wait_for(accepted.wait(), ACCEPT_SECONDS)
                return await asyncio.wait_for(answer, ANSWER_SECONDS)
            except TimeoutError:
                raise NoDrainer() from None
        finally:
            self._asked.pop(request_id, None)

    def _heard_answer(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        waiting = self._asked.get(str(message.get("id")))
        if waiting is None:
            return
        accepted, answer = waiting
        if message.get("type") == "accepted":
            accepted.set()
        elif message.get("type") == "answer" and not answer.done():
            accepted.set()
            answer.set_result(str(message.get("answer")))
