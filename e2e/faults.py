"""Helpers for tests against a server started with BACKSTAY_FAULTS=1 (see app/server/faults.py).

    add_fault(server.url, method="POST", path="/_spark/kv/w3-hotel-guests", action="refuse", count=2)
    clear_faults(server.url)                # also releases hung requests
    applied_log(server.url, after=0)        # [{n, time, collection, key, op, body}], commit order

urllib only, so they run anywhere the tests do (the page's fetches are not involved).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

FAULTS = "/_backstay/faults"


class FaultSwitchError(RuntimeError):
    """The server refused a call: a bad rule, or a server started without BACKSTAY_FAULTS=1."""


def add_fault(base_url: str, **rule: Any) -> dict[str, Any]:
    """Add a rule (method, path, action, status, ms, count); returns it with its id."""
    result: dict[str, Any] = _call(base_url, "POST", FAULTS, rule)
    return result


def list_faults(base_url: str) -> list[dict[str, Any]]:
    """The rules in match order, each with how many requests it has applied to ("hits")."""
    result: list[dict[str, Any]] = _call(base_url, "GET", FAULTS)
    return result


def clear_faults(base_url: str) -> None:
    """Remove every rule; requests held by a "hang" rule are answered (503) now."""
    _call(base_url, "DELETE", FAULTS)


def applied_log(base_url: str, after: int = 0) -> list[dict[str, Any]]:
    """The writes the server applied with n > `after`, in the order SQLite committed them.

    Each entry: n, time (ms), collection ("" by default), key, op ("set" or "delete") and body
    (the stored JSON text of a set; None for a delete).
    """
    result: list[dict[str, Any]] = _call(base_url, "GET", f"{FAULTS}/log?after={int(after)}")
    return result


def clear_applied_log(base_url: str) -> None:
    """Empty the applied log (entry numbers go on from where they were)."""
    _call(base_url, "DELETE", f"{FAULTS}/log")


def _call(base_url: str, method: str, path: str, body: object = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base_url.rstrip("/") + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as refused:
        detail = refused.read().decode("utf-8", "replace")
        hint = " (is the server started with BACKSTAY_FAULTS=1?)" if refused.code == 404 else ""
        raise FaultSwitchError(f"{method} {path}: {refused.code} {detail}{hint}") from None
