"""SampleFeed: GET /_backstay/sample?size=small|large -> {KV key: array} of the sample hotel.

The demo page's "Load sample hotel" action fetches this and writes each key itself through the
Spark client, so the writes pass through the capture shim like any PMS edit. The JSON is generated
once per size (a few seconds for "large") and kept in memory.
"""

from __future__ import annotations

import json
import threading

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from app.sample import hotel
from app.server.kv_api import error


class SampleFeed:
    """Encodes generated sample data on first request per size and serves the cached bytes."""

    def __init__(self, seed: int = hotel.DEFAULT_SEED) -> None:
        self._seed = seed
        self._cache: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def encoded(self, size: str) -> bytes:
        """The compact JSON of hotel.generate(size); raises ValueError for an unknown size."""
        with self._lock:
            cached = self._cache.get(size)
            if cached is None:
                data = hotel.generate(size, seed=self._seed)
                cached = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
                self._cache[size] = cached
            return cached

    async def endpoint(self, request: Request) -> Response:
        size = request.query_params.get("size", "small")
        if size not in hotel.SIZES:
            return error(400, f"unknown sample size {size!r}; use one of {', '.join(hotel.SIZES)}")
        body = await run_in_threadpool(self.encoded, size)
        return Response(body, media_type="application/json", headers={"Cache-Control": "no-cache"})
