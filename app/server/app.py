"""create_app: the composition root of the local server.

Routes:
  /_spark/kv, /_spark/kv/<key>, /_spark/db/collections/<c>   the KV protocol (kv_api.KvApi)
  GET /_spark/user            the configured signed-in user
  GET|POST /_spark/loaded     the runtime's load ping; accepted and ignored
  GET /_backstay/sample       sample hotel data (sample_feed.SampleFeed)
  GET /_backstay/avatar.svg   the user's avatar (local, so the page needs no outside request)
  GET /_backstay/app.zip      the browser's Python packages as one zip (app_bundle.AppBundle)
  /_backstay/faults, /_backstay/faults/log   the test-only fault switch (faults.Faults), only
                              with Config.faults (BACKSTAY_FAULTS=1); otherwise 404
  everything else             the project's static files (static_site.StaticSite) or 404
Every error is JSON: {"error": "..."}. Every request passes guard.RequestGuard first: a foreign
Host, or a write from another web site, is refused with 403.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.server.app_bundle import AppBundle
from app.server.config import Config, SparkUser
from app.server.faults import Faults, absent_routes
from app.server.guard import RequestGuard
from app.server.kv_api import KvApi, error
from app.server.kv_store import SqliteKv
from app.server.sample_feed import SampleFeed
from app.server.static_site import StaticSite

Endpoint = Callable[[Request], Awaitable[Response]]


def create_app(config: Config) -> Starlette:
    """Build the server for `config`. Opens the SQLite store now; closes it at shutdown."""
    store = SqliteKv.open(config.database_path, log_applied=config.faults)
    faults = Faults(store) if config.faults else None
    site = StaticSite(config.project_root)
    routes: list[BaseRoute] = [
        *KvApi(store, config.max_value_bytes).routes(),
        Route("/_spark/user", _user_endpoint(config.user), methods=["GET"]),
        Route("/_spark/loaded", _loaded, methods=["GET", "POST"]),
        Route("/_backstay/sample", SampleFeed().endpoint, methods=["GET"]),
        Route("/_backstay/avatar.svg", _avatar_endpoint(config.user), methods=["GET"]),
        Route("/_backstay/app.zip", AppBundle(config.project_root / "app").endpoint, methods=["GET"]),
        *(faults.routes() if faults else absent_routes()),
        Route("/{path:path}", site.endpoint, methods=["GET"]),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    middleware = [Middleware(RequestGuard, allowed_hosts=config.allowed_hosts)]
    if faults:
        middleware.append(faults.middleware())
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _http_error},
                    middleware=middleware)
    app.state.store = store
    app.state.config = config
    app.state.faults = faults
    return app


def _user_endpoint(user: SparkUser) -> Endpoint:
    body = user.to_json()

    async def user_endpoint(request: Request) -> Response:
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    return user_endpoint


async def _loaded(request: Request) -> Response:
    await request.body()
    return JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})


def _avatar_endpoint(user: SparkUser) -> Endpoint:
    initial = html.escape((user.login[:1] or "?").upper())
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        '<circle cx="32" cy="32" r="32" fill="#1f6feb"/>'
        '<text x="32" y="42" font-family="sans-serif" font-size="30" text-anchor="middle" '
        f'fill="#fff">{initial}</text></svg>'
    )

    async def avatar_endpoint(request: Request) -> Response:
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-cache"})

    return avatar_endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):
        raise exc
    messages = {404: f"not found: {request.url.path}", 405: f"{request.method} is not allowed here"}
    return error(exc.status_code, messages.get(exc.status_code, str(exc.detail)), dict(exc.headers or {}))
