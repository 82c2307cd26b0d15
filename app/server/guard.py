"""RequestGuard: the server answers only its own pages.

It holds a hotel's guest data, so a web page the user happens to visit must not read or change
it:

* **Host**: a request whose Host header names a host other than 127.0.0.1, localhost, [::1]
  or one listed in BACKSTAY_ALLOWED_HOSTS is refused (403). This stops DNS rebinding: a foreign
  name that resolves to 127.0.0.1 still carries that name in Host.
* **Writes** (POST, PUT, PATCH, DELETE): a request whose Origin is not this server's own origin
  (the scheme and Host of the request), or, without Origin, whose Sec-Fetch-Site says it came
  from another site, is refused (403). Browsers send these headers and pages cannot forge them,
  so a "simple" cross-site POST (Content-Type text/plain) no longer overwrites a module.
  Requests with neither header come from programs, not from web pages (curl, the CLI, tests),
  and are let through: anything that can send them can already reach the store's file.

Reads need no such check: the server sends no CORS headers, so another site's page cannot read
an answer, and DNS rebinding is stopped by the Host check.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from app.server.kv_api import error

LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
ALLOWED_FETCH_SITES = {"same-origin", "none"}


def host_name(host: str) -> str:
    """'127.0.0.1:8000' -> '127.0.0.1', '[::1]:80' -> '[::1]', lower-cased."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if ":" in host else host


class RequestGuard:
    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str] = ()) -> None:
        self._app = app
        self._hosts = {*LOCAL_HOSTS, *(host_name(h) for h in allowed_hosts if h.strip())}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1")
                   for name, value in scope.get("headers", [])}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await error(403, refusal)(scope, receive, send)
            return
        await self._app(scope, receive, send)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> str | None:
        host = headers.get("host", "")
        if host_name(host) not in self._hosts:
            return (f"Host {host!r} is not allowed: this server answers only to "
                    f"{', '.join(sorted(self._hosts))} (add a host name to "
                    "BACKSTAY_ALLOWED_HOSTS to serve it under that name)")
        if str(scope.get("method", "GET")).upper() not in WRITES:
            return None
        origin = headers.get("origin")
        if origin is not None:
            own = f"{scope.get('scheme', 'http')}://{host}".lower()
            if origin.strip().lower() != own:
                return (f"Write refused: it came from another web site ({origin}). This server "
                        "holds the hotel's data and accepts changes only from its own pages")
            return None
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ALLOWED_FETCH_SITES:
            return (f"Write refused: it came from another web site (Sec-Fetch-Site: {site}). "
                    "This server accepts changes only from its own pages")
        return None
