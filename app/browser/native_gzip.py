"""NativeGzip: the AsyncCompressor port backed by the browser's CompressionStream."""

from __future__ import annotations

from typing import Any

from app.browser.ffi import js_bytes, py_bytes


class NativeGzip:
    def __init__(self, module: Any) -> None:
        self._module = module  # static/backstay/gzip.mjs

    async def compress(self, data: bytes) -> bytes:
        return py_bytes(await self._module.gzip(js_bytes(data)))
