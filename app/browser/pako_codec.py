"""PakoCompressor: the Compressor port backed by pako (gzip, RFC 1952) in the browser."""

from __future__ import annotations

from typing import Any

from app.browser.ffi import JsException, js_bytes, js_value, py_bytes

LEVEL = 6


class PakoCompressor:
    def __init__(self, pako: Any) -> None:
        self._pako = pako
        self._options = js_value({"level": LEVEL})

    def compress(self, data: bytes) -> bytes:
        return py_bytes(self._pako.gzip(js_bytes(data), self._options))

    def decompress(self, data: bytes) -> bytes:
        try:
            return py_bytes(self._pako.ungzip(js_bytes(data)))
        except JsException as error:
            raise ValueError(f"not valid gzip data: {error}") from None
