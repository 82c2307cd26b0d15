"""The one place where Python values and JavaScript proxies meet.

Everything else in app/browser calls these helpers, so conversions (and their costs: bytes are
copied once each way) and error translation are written once.
"""

from __future__ import annotations

from typing import Any

import js  # type: ignore[import-not-found]
from pyodide.ffi import JsException, JsProxy, create_proxy, to_js  # type: ignore[import-not-found]

__all__ = [
    "JsException", "JsProxy", "create_proxy", "error_name", "js_bytes", "js_value", "py_bytes", "py_value",
]


def js_bytes(data: bytes) -> JsProxy:
    """A Uint8Array copy of ``data``."""
    return to_js(data)


def py_bytes(value: JsProxy) -> bytes:
    """bytes from a Uint8Array or ArrayBuffer."""
    if hasattr(value, "to_bytes"):
        return bytes(value.to_bytes())
    return bytes(js.Uint8Array.new(value).to_bytes())


def js_value(value: Any) -> JsProxy:
    """A JavaScript value for plain Python data: dicts become Objects (not Maps)."""
    return to_js(value, dict_converter=js.Object.fromEntries)


def py_value(value: Any) -> Any:
    """Plain Python data (dict, list, str, ...) from a JavaScript value."""
    if hasattr(value, "to_py"):
        return value.to_py()
    return value


def error_name(error: JsException) -> str:
    """The DOMException/Error name of a JavaScript error (QuotaExceededError, OperationError...)."""
    name = getattr(error, "name", "")
    if name and name != "JsException":
        return str(name)
    text = str(error)
    return text.split(":", 1)[0].strip() if ":" in text else ""
