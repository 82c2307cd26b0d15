"""Faults: the test-only fault switch (BACKSTAY_FAULTS=1). Off, none of this is installed.

End-to-end tests make the server misbehave on chosen requests and read back the order in which
it applied writes:

  POST   /_backstay/faults           add a rule (JSON below); answers the rule with its id
  GET    /_backstay/faults           the rules, in match order, each with its "hits" so far
  DELETE /_backstay/faults           remove every rule and release every hung request
  GET    /_backstay/faults/log       the applied log (applied_log.py): [{n, time, collection,
                                     key, op, body}], oldest first; ?after=N: entries with n > N
  DELETE /_backstay/faults/log       empty the applied log (n is not reused)

A rule: {"method": "POST"|"DELETE"|"GET"|...|"*" (default "*"), "path": "/_spark/kv/w3-hotel-guests"
(a prefix of the decoded or of the raw request path), "action": "refuse"|"delay"|"hang"|"drop"|"cut",
"status": 503, "ms": 1500, "bytes": 4096, "count": 1}. Each request other than these routes takes
the first rule that matches it and is not used up; a rule applies to its next `count` matching
requests (0 or omitted: until the rules are cleared).

  refuse  read the body, answer `status` (default 503) with a JSON error; the store is untouched.
  delay   wait `ms` (default 1000) or until the rules are cleared, then handle the request
          normally: a request sent later overtakes it, so two writes can be applied in the other
          order. With a long `ms`, clearing the rules says exactly when the held request goes on.
  hang    read the body, then answer nothing until the rules are cleared, `ms` passes (if given)
          or the server stops; then answer `status` (default 503); the store is untouched.
  drop    read the body, then close the connection without any response; the store is
          untouched. ASGI has no way to say this, so under uvicorn the connection's transport is
          aborted (the client sees an empty response / connection closed); under any other
          server (Starlette's TestClient) the request fails with an exception instead.
          Caution: Chromium re-sends a request once when a reused keep-alive connection closes
          before any response, so a "drop" rule with count 1 can be absorbed by that silent
          retry; use count >= 2 (or 0) to make the failure reach the page.
  cut     handle the request, send the response's status and headers (its Content-Length
          included) and its first `bytes` (default 4096) body bytes, then close the connection
          (uvicorn only, as drop): a response cut off mid-body. The store is as the request
          left it (a cut write was applied). A body no longer than `bytes` is sent whole and
          the connection kept (the rule still counts the hit).

Rules live in memory; the applied log is in the store's SQLite file and survives restarts.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.server.kv_api import error
from app.server.kv_store import SqliteKv

FAULTS_PATH = "/_backstay/faults"
ACTIONS = ("refuse", "delay", "hang", "drop", "cut")
METHODS = ("*", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_ALL_METHODS = [method for method in METHODS if method != "*"]
_NO_STORE = {"Cache-Control": "no-store"}
_FIELDS = {"method", "path", "action", "status", "ms", "bytes", "count"}


class RuleError(ValueError):
    """A fault rule that cannot be used; the message says which field and why."""


@dataclass
class FaultRule:
    """One rule; `hits` counts the requests it has applied to."""

    id: int
    method: str
    path: str
    action: str
    status: int
    ms: int | None
    count: int
    hits: int = 0
    bytes: int = 4096

    @classmethod
    def parse(cls, rule_id: int, data: object) -> FaultRule:
        """The rule described by `data` (the decoded JSON body); raises RuleError."""
        if not isinstance(data, dict):
            raise RuleError("a rule is a JSON object")
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise RuleError(f"unknown field(s) {', '.join(unknown)}; a rule has {', '.join(sorted(_FIELDS))}")
        method = data.get("method", "*")
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise RuleError(f"method must be one of {', '.join(METHODS)}")
        path = data.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise RuleError('path must be a path prefix starting with "/"')
        action = data.get("action")
        if action not in ACTIONS:
            raise RuleError(f"action must be one of {', '.join(ACTIONS)}")
        status = _whole(data, "status", 503, minimum=400, maximum=599)
        count = _whole(data, "count", 0, minimum=0)
        # without ms: a hang waits until the rules are cleared, a delay waits a second
        ms: int | None = _whole(data, "ms", 0, minimum=0) if data.get("ms") is not None else None
        if ms is None and action == "delay":
            ms = 1000
        cut = _whole(data, "bytes", 4096, minimum=0)
        return cls(rule_id, method.upper(), path, str(action), status, ms, count, bytes=cut)

    @property
    def used_up(self) -> bool:
        return 0 < self.count <= self.hits

    def matches(self, scope: Scope) -> bool:
        if self.method != "*" and self.method != scope["method"]:
            return False
        raw: bytes = scope.get("raw_path") or b""
        return str(scope["path"]).startswith(self.path) or raw.decode("latin-1").startswith(self.path)

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "method": self.method, "path": self.path, "action": self.action,
                "status": self.status, "ms": self.ms, "bytes": self.bytes, "count": self.count,
                "hits": self.hits}


class Faults:
    """The rules of one server, its hung requests, and the routes that manage them."""

    def __init__(self, store: SqliteKv) -> None:
        self._store = store
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self._release = asyncio.Event()

    def routes(self) -> list[BaseRoute]:
        return [
            Route(FAULTS_PATH, self._rules_endpoint, methods=["GET", "POST", "DELETE"]),
            Route(FAULTS_PATH + "/log", self._log_endpoint, methods=["GET", "DELETE"]),
        ]

    def middleware(self) -> Middleware:
        return Middleware(FaultInjection, faults=self)

    def take(self, scope: Scope) -> FaultRule | None:
        """The rule that applies to this request, counting the use; None for most requests."""
        if scope["type"] != "http" or str(scope["path"]).startswith(FAULTS_PATH):
            return None
        for rule in self._rules:
            if not rule.used_up and rule.matches(scope):
                rule.hits += 1
                return rule
        return None

    def release_all(self) -> None:
        """Let every hung request answer now (rules cleared, or the server stopping)."""
        self._release.set()
        self._release = asyncio.Event()

    async def hold(self, rule: FaultRule, receive: Receive | None) -> None:
        """Return when the rules are cleared, the rule's ms pass, or (given `receive`, the body
        having been read) the client goes away."""
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._release.wait())]
        if receive is not None:
            waits.append(asyncio.ensure_future(_disconnected(receive)))
        timeout = None if rule.ms is None else rule.ms / 1000
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def _rules_endpoint(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                rule = FaultRule.parse(self._next_id, json.loads(await request.body()))
            except (ValueError, RuleError) as problem:
                return error(400, f"fault rule not added: {problem}")
            self._next_id += 1
            self._rules.append(rule)
            return JSONResponse(rule.to_json(), headers=_NO_STORE)
        if request.method == "DELETE":
            cleared = len(self._rules)
            self._rules.clear()
            self.release_all()
            return JSONResponse({"cleared": cleared}, headers=_NO_STORE)
        return JSONResponse([rule.to_json() for rule in self._rules], headers=_NO_STORE)

    async def _log_endpoint(self, request: Request) -> Response:
        if request.method == "DELETE":
            await run_in_threadpool(self._store.clear_applied)
            return JSONResponse({"cleared": True}, headers=_NO_STORE)
        raw = request.query_params.get("after", "0")
        if not raw.isdigit():
            return error(400, f"after must be a whole number, got {raw!r}")
        entries = await run_in_threadpool(self._store.applied, int(raw))
        return JSONResponse([entry.to_json() for entry in entries], headers=_NO_STORE)


class FaultInjection:
    """ASGI middleware: applies the first matching fault rule to each request."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self._faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rule = self._faults.take(scope)
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.action == "delay":
            await self._faults.hold(rule, None)
            await self.app(scope, receive, send)
            return
        if rule.action == "cut":
            await self.app(scope, receive, _cut_after(rule.bytes, receive, send))
            return
        if not await _read_body(receive):
            return  # the client went away
        if rule.action == "drop":
            await _drop(receive)
            return
        if rule.action == "hang":
            await self._faults.hold(rule, receive)
            message = f"held by test fault {rule.id}, then released"
        else:
            message = f"refused by test fault {rule.id}"
        response = error(rule.status, message, {"X-Backstay-Fault": str(rule.id)})
        await response(scope, receive, send)


def absent_routes() -> list[BaseRoute]:
    """With the switch off: every method on /_backstay/faults... answers 404, as for any
    unknown path (the static catch-all would answer 405 to POST and DELETE)."""

    async def not_found(request: Request) -> Response:
        return error(404, f"not found: {request.url.path}")

    return [Route(FAULTS_PATH + "{rest:path}", not_found, methods=_ALL_METHODS)]


def _whole(data: dict[str, Any], name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
            maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise RuleError(f"{name} must be a whole number, at least {minimum}{upper}")
    return value


async def _read_body(receive: Receive) -> bool:
    """Read the request body to its end (so the client is not cut off mid-send); False if the
    client disconnected first."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return False
        if not message.get("more_body", False):
            return True


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _cut_after(limit: int, receive: Receive, send: Send) -> Send:
    """A ``send`` that passes on the response start and the first ``limit`` body bytes, then
    aborts the connection and drops whatever the app sends after (uvicorn only, as _drop)."""
    sent = 0
    cut = False

    async def cutting(message: dict[str, Any]) -> None:
        nonlocal sent, cut
        if cut:
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        body: bytes = message.get("body", b"")
        if sent + len(body) < limit or (sent + len(body) == limit and message.get("more_body")):
            sent += len(body)
            await send(message)
            return
        await send({"type": "http.response.body", "body": body[:limit - sent], "more_body": True})
        cut = True
        transport = getattr(getattr(receive, "__self__", None), "transport", None)
        if transport is None or not hasattr(transport, "abort"):
            raise RuntimeError("the cut fault needs uvicorn: this server does not expose its connection")
        transport.abort()
        await _disconnected(receive)  # uvicorn then takes what follows as sent to no one

    return cutting  # type: ignore[return-value]


async def _drop(receive: Receive) -> None:
    """Close the connection without a response (uvicorn only: see the module docstring)."""
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        raise RuntimeError("the drop fault needs uvicorn: this server does not expose its connection")
    transport.abort()
    await _disconnected(receive)  # uvicorn marks the request disconnected, and sends nothing
