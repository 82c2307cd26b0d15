"""KvApi: the Spark KV HTTP protocol, mapped onto a SqliteKv.

  GET    /_spark/kv                  -> JSON array of the keys (of ?collection=, default namespace)
  GET    /_spark/kv/<key>            -> the stored JSON text (application/json); 404 if missing.
                                        With If-None-Match (Backstay's start, which knows the
                                        SHA-256 of the text it last saw): 304 and no body when
                                        the value's SHA-256 (its ETag, "<hex>") is one named
                                        (SqliteKv.cached_digest and keep_digest: hashed once per value).
  POST   /_spark/kv/<key>            -> store the body (JSON text); 400 if it is not JSON.
                                        With X-Spark-Initial: true (the client's get-or-set
                                        default) the value is stored only if the key is absent.
  DELETE /_spark/kv/<key>            -> delete; 200 whether or not the key existed
  GET    /_spark/db/collections/<c>  -> [{key, value}] of a collection (the Spark DB client)
All take an optional ?collection=. The key is the percent-decoded rest of the RAW path, so keys
may hold any character, '/' (sent as %2F) and newlines included.
A POST body is read into one buffer (_read_body), then checked (json_validation) and stored
(SqliteKv) in the thread pool: a value of hundreds of MB costs about its own size in memory, and
other requests are answered meanwhile.
"""

from __future__ import annotations

import mmap
from typing import Any
from urllib.parse import unquote

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URLPath
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.server.json_validation import Buffer
from app.server.kv_store import DEFAULT_COLLECTION, InvalidValue, SqliteKv

KV_PREFIX = "/_spark/kv"
_KEY_PREFIX = KV_PREFIX + "/"
_KEY_METHODS = ("GET", "HEAD", "POST", "DELETE")
_NO_STORE = {"Cache-Control": "no-store"}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON error body every route of the server uses."""
    return JSONResponse({"error": message}, status_code=status, headers={**_NO_STORE, **(headers or {})})


class KvApi:
    """The KV routes over one store."""

    def __init__(self, store: SqliteKv, max_value_bytes: int) -> None:
        self._store = store
        self._max_value_bytes = max_value_bytes

    def routes(self) -> list[BaseRoute]:
        return [
            Route(KV_PREFIX, self.list_keys, methods=["GET"]),
            KeyRoute(self._key_app),
            Route("/_spark/db/collections/{collection:path}", self.list_documents, methods=["GET"]),
        ]

    async def list_keys(self, request: Request) -> Response:
        keys = await run_in_threadpool(self._store.keys, _collection(request))
        return JSONResponse(keys, headers=_NO_STORE)

    async def list_documents(self, request: Request) -> Response:
        pairs = await run_in_threadpool(self._store.items, request.path_params["collection"])
        return JSONResponse([{"key": k, "value": v} for k, v in pairs], headers=_NO_STORE)

    async def _key_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._key_endpoint(Request(scope, receive))
        await response(scope, receive, send)

    async def _key_endpoint(self, request: Request) -> Response:
        key: str | None = request.scope["path_params"]["key"]
        if key is None:
            return error(400, "the KV key is not percent-encoded UTF-8")
        if not key:
            return error(400, "the KV key is empty: use /_spark/kv/<url-encoded key>")
        collection = _collection(request)
        method = request.method
        if method in ("GET", "HEAD"):
            listed = request.headers.getlist("if-none-match")
            wanted = ", ".join(listed) if listed else None
            stamp, cached = await run_in_threadpool(self._store.cached_digest, key, collection)
            if wanted is not None and cached is not None and _none_match(wanted, f'"{cached}"'):
                return Response(status_code=304, headers={**_NO_STORE, "ETag": f'"{cached}"'})
            value = await run_in_threadpool(self._store.get, key, collection)
            if value is None:
                return error(404, f"no value for key {key!r}{_in(collection)}")
            if wanted is None:
                # Hashed once the answer is sent: the PMS's page load readies the ETags that
                # Backstay's start asks for moments later.
                later = None if cached is not None else BackgroundTask(
                    run_in_threadpool, self._store.keep_digest, key, collection, stamp, value)
                return Response(value, media_type="application/json", headers=_NO_STORE, background=later)
            # The value read now, hashed once (and cached unless written since the stamp).
            tag = f'"{await run_in_threadpool(self._store.keep_digest, key, collection, stamp, value)}"'
            headers = {**_NO_STORE, "ETag": tag}
            if _none_match(wanted, tag):
                return Response(status_code=304, headers=headers)
            return Response(value, media_type="application/json", headers=headers)
        if method == "POST":
            body = await _read_body(request, self._max_value_bytes)
            if body is None:
                limit = self._max_value_bytes
                return error(413, f"value for key {key!r} not stored: larger than {limit} bytes")
            initial = request.headers.get("x-spark-initial", "").strip().lower() == "true"
            try:
                if initial:
                    stored = await run_in_threadpool(self._store.set_if_absent, key, body, collection)
                else:
                    await run_in_threadpool(self._store.set, key, body, collection)
                    stored = True
            except InvalidValue as invalid:
                return error(400, f"value for key {key!r} not stored: {invalid}")
            return JSONResponse({"key": key, "stored": stored}, headers=_NO_STORE)
        if method == "DELETE":
            existed = await run_in_threadpool(self._store.delete, key, collection)
            return JSONResponse({"key": key, "deleted": existed}, headers=_NO_STORE)
        return error(405, f"{method} is not allowed on a KV key", {"Allow": ", ".join(_KEY_METHODS)})


class KeyRoute(BaseRoute):
    """Matches /_spark/kv/<anything> on the raw path and decodes the key exactly once.

    Starlette's own routing matches the already-decoded path with a regex that stops at newlines;
    reading scope["raw_path"] keeps keys with %2F, %0A, %25... intact.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        raw: bytes | None = scope.get("raw_path")
        path = raw.decode("latin-1") if raw is not None else None
        if path is None or not path.startswith(_KEY_PREFIX):
            decoded: str = scope["path"]
            if not decoded.startswith(_KEY_PREFIX):
                return Match.NONE, {}
            key: str | None = decoded[len(_KEY_PREFIX) :]
        else:
            try:
                key = unquote(path[len(_KEY_PREFIX) :], encoding="utf-8", errors="strict")
            except UnicodeDecodeError:
                key = None  # the endpoint answers 400
        return Match.FULL, {"path_params": {**scope.get("path_params", {}), "key": key}}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def _read_body(request: Request, limit: int) -> Buffer | None:
    """The request body, or None (having read no more than needed) if it exceeds `limit` bytes.

    With a Content-Length the body is read into one anonymous memory map of that size: the value
    is held once (no list of chunks, no join), the map costs nothing until written (a bytearray
    would first be zero-filled, holding the event loop ~1 ms per MB), and its memory goes back to
    the system when dropped. Without one, a bytearray grows as chunks arrive.
    """
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        grown = bytearray()
        async for chunk in request.stream():
            if len(grown) + len(chunk) > limit:
                return None
            grown += chunk
        return grown
    size = int(declared)
    if size > limit:
        return None
    if size == 0:
        return b""
    body = mmap.mmap(-1, size)
    filled = 0
    with memoryview(body) as view:
        async for chunk in request.stream():
            end = filled + len(chunk)
            if end > size:  # the server enforces Content-Length; never trust it more than that
                return None
            view[filled:end] = chunk
            filled = end
    return body if filled == size else memoryview(body)[:filled]


def _none_match(header: str, tag: str) -> bool:
    """Does an If-None-Match header name ``tag`` (or "*")? Weak comparison (RFC 9110 13.1.2)."""
    for listed in header.split(","):
        listed = listed.strip()
        if listed == "*" or listed.removeprefix("W/") == tag:
            return True
    return False


def _collection(request: Request) -> str:
    return request.query_params.get("collection", DEFAULT_COLLECTION)


def _in(collection: str) -> str:
    return f" in collection {collection!r}" if collection else ""

