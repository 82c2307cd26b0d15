"""SparkKv: reads the live Spark KV store over HTTP, from the worker.

The worker's fetch is not wrapped by the page's capture shim, so these reads are never captured.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import js  # type: ignore[import-not-found]
from pyodide.http import pyfetch  # type: ignore[import-not-found]

KV_PATH = "/_spark/kv"


class KvUnavailable(Exception):
    """The Spark KV server could not be reached or answered with an error."""


class SparkKv:
    def __init__(self, origin: str | None = None) -> None:
        self._origin = origin or str(js.location.origin)

    async def _get(self, path: str) -> Any:
        try:
            response = await pyfetch(self._origin + path, cache="no-store")
        except Exception as error:  # network failure: pyfetch raises OSError/JsException
            raise KvUnavailable(f"the store at {self._origin} did not answer: {error}") from None
        return response

    async def keys(self) -> list[str]:
        response = await self._get(KV_PATH)
        if not response.ok:
            raise KvUnavailable(f"listing keys failed with HTTP {response.status}")
        return [str(key) for key in json.loads(await response.string())]

    async def get_text(self, key: str) -> str | None:
        """The JSON text of ``key``, or None when the key does not exist."""
        response = await self._get(f"{KV_PATH}/{quote(key, safe='')}")
        if response.status == 404:
            return None
        if not response.ok:
            raise KvUnavailable(f"reading {key} failed with HTTP {response.status}")
        return str(await response.string())

    async def snapshot(self, keys: list[str]) -> dict[str, str]:
        """The JSON text of each of ``keys`` that exists (read concurrently)."""
        texts = await asyncio.gather(*(self.get_text(key) for key in keys))
        return {key: text for key, text in zip(keys, texts, strict=True) if text is not None}

    async def user(self) -> dict[str, Any]:
        response = await self._get("/_spark/user")
        if not response.ok:
            raise KvUnavailable(f"reading the signed-in user failed with HTTP {response.status}")
        return dict(json.loads(await response.string()))
