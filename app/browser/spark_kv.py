"""SparkKv: reads the live Spark KV store over HTTP, from the worker.

The worker's fetch is not wrapped by the page's capture shim, so these reads are never captured.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from array import array
from typing import Any

import js  # type: ignore[import-not-found]

from app.browser.ffi import js_value, py_bytes
from app.browser.kv_path import KV_PATH, key_path
from app.core.formats.record_ids import RecordIds
from app.core.formats.tiling import Tiling

#: A request to the store that has not been answered by then is given up (and retried later),
#: so a hung server never stalls the engine for good.
TIMEOUT_MS = 90_000


#: Marks the writes Backstay makes itself (a restore, which records its own version): capture
#: (static/capture.js, static/capture_sw.js) does not journal them.
OWN_WRITE_HEADER = "X-Backstay-Writer"


class KvUnavailable(Exception):
    """The Spark KV server could not be reached or answered with an error."""


class SparkKv:
    def __init__(self, origin: str | None = None, tiling: Any = None) -> None:
        self._origin = origin or str(js.location.origin)
        self._tiling = tiling  # static/backstay/tiling.mjs (None: read every module in Python)

    def _unreachable(self, error: object) -> KvUnavailable:
        return KvUnavailable(f"the store at {self._origin} did not answer: {error}")

    async def _request(self, path: str, options: dict[str, Any]) -> Any:
        """The browser's fetch of ``path`` (a JS Response), given up after TIMEOUT_MS."""
        try:
            return await js.fetch(self._origin + path, js_value(
                {**options, "signal": js.AbortSignal.timeout(TIMEOUT_MS)}))
        except Exception as error:  # network failure or time-out: JsException
            raise self._unreachable(error) from None

    async def _get(self, path: str) -> Any:
        return await self._request(path, {"cache": "no-store"})

    async def keys(self) -> list[str]:
        response = await self._get(KV_PATH)
        if not response.ok:
            raise KvUnavailable(f"listing keys failed with HTTP {response.status}")
        return [str(key) for key in json.loads(await _text(response))]

    async def get_text(self, key: str) -> str | None:
        """The JSON text of ``key``, or None when the key does not exist."""
        data = await self.get_data(key)
        return None if data is None else decode(data)

    async def get_data(self, key: str) -> bytes | None:
        """The JSON text of ``key`` as the UTF-8 bytes the store sent, or None when the key does
        not exist."""
        response = await self._get(key_path(key))
        if response.status == 404:
            return None
        if not response.ok:
            raise KvUnavailable(f"reading {key} failed with HTTP {response.status}")
        return await _data(response)

    async def matches_head(
        self, store: Any, key: str, expect: tuple[str, int] | None = None
    ) -> tuple[str, str | None, int]:
        """Whether the live value of ``key`` is byte for byte the head text ``store`` (an
        IdbStore) holds for it: ("same", the SHA-256 hex of that text, its length in bytes),
        ("differs", None, 0) or ("absent", None, 0) - compared in JavaScript, so an unchanged
        module is never copied into Python. ``expect``: (SHA-256 hex, length) of that head
        text when known: a store that still holds those bytes then sends nothing ("unsent",
        the hex, the length)."""
        verdict = await store.live_matches_head(  # StoreError: Backstay's own storage failed
            self._origin + key_path(key), key, TIMEOUT_MS, expect)
        if verdict.startswith("unreachable: "):
            raise self._unreachable(verdict[13:])
        if verdict.startswith("http "):
            raise KvUnavailable(f"reading {key} failed with HTTP {verdict[5:]}")
        if verdict.startswith("same "):
            _, text_hash, length, *unsent = verdict.split(" ")
            return "unsent" if unsent else "same", text_hash, int(length)
        return verdict, None, 0

    async def set_text(self, key: str, text: str) -> None:
        """Store JSON text under ``key`` with the request the PMS's @github/spark client
        makes (Backstay's own ``backstay:`` keys, and the keys a restore writes)."""
        await self._send("POST", key, text, f"writing {key}")

    async def delete(self, key: str) -> None:
        await self._send("DELETE", key, None, f"deleting {key}")

    async def _send(self, method: str, key: str, text: str | None, doing: str) -> None:
        headers = {OWN_WRITE_HEADER: "engine"}
        options: dict[str, Any] = {"method": method, "headers": headers}
        if text is not None:
            headers["Content-Type"] = "text/plain"
            options["body"] = text
        response = await self._request(key_path(key), options)
        if not response.ok and not (method == "DELETE" and response.status == 404):
            raise KvUnavailable(f"{doing} failed with HTTP {response.status}")

    async def snapshot(self, keys: list[str]) -> dict[str, str]:
        """The JSON text of each of ``keys`` that exists (read concurrently)."""
        texts = await asyncio.gather(*(self.get_text(key) for key in keys))
        return {key: text for key, text in zip(keys, texts, strict=True) if text is not None}

    async def snapshot_tiled(
        self, keys: list[str], min_count: int
    ) -> tuple[dict[str, str], dict[str, Tiling], dict[str, tuple[str, int]]]:
        """``snapshot``, with where the elements of each array module of at least ``min_count``
        elements are, when the browser found its text made of its elements' canonical texts
        (static/backstay/tiling.mjs), and (SHA-256 hex, length) of the UTF-8 of each text that
        arrived as well-formed UTF-8; one key at a time (each is scanned there whole), the next
        one fetched while one is scanned. Large bodies are compressed on another thread as
        they arrive, for the checkpoint that records them: ``release_snapshot`` once it is
        written."""
        if self._tiling is None:
            return await self.snapshot(keys), {}, {}
        texts: dict[str, str] = {}
        tilings: dict[str, Tiling] = {}
        digests: dict[str, tuple[str, int]] = {}
        reader = self._tiling.snapshotReader(
            js_value([self._origin + key_path(key) for key in keys]), TIMEOUT_MS, min_count)
        try:
            for at, key in enumerate(keys):
                try:
                    found = await reader.read(at)
                except Exception as error:  # network failure, or the answer cut off
                    raise self._unreachable(error) from None
                status = int(found.status)
                if status == 404:
                    continue
                if status < 200 or status > 299:
                    raise KvUnavailable(f"reading {key} failed with HTTP {status}")
                data = py_bytes(found.bytes)
                texts[key] = decode(data)
                if found.digest is not None:
                    digests[key] = (str(found.digest), len(data))
                tiling = found.tiling
                if tiling is not None:
                    starts, lengths = array("i"), array("i")
                    starts.frombytes(py_bytes(tiling.starts))
                    lengths.frombytes(py_bytes(tiling.lengths))
                    count = len(starts)
                    ids = RecordIds.decode(count, py_bytes(tiling.idTable), py_bytes(tiling.idText))
                    if ids is not None:
                        tilings[key] = Tiling(starts, lengths, ids, bool(tiling.records),
                                              int(tiling.length))
        except BaseException:
            with contextlib.suppress(Exception):  # the reading's own error is the one to report
                self.release_snapshot()  # no checkpoint will take what was compressed ahead
            raise
        finally:
            reader.close()
        return texts, tilings, digests

    def release_snapshot(self) -> int:
        """Drop what ``snapshot_tiled`` had compressed ahead that was not used; return how many
        blobs were compressed ahead and used."""
        return 0 if self._tiling is None else int(self._tiling.releaseSnapshot())

    async def user(self) -> dict[str, Any]:
        response = await self._get("/_spark/user")
        if not response.ok:
            raise KvUnavailable(f"reading the signed-in user failed with HTTP {response.status}")
        return dict(json.loads(await _text(response)))


async def _text(response: Any) -> str:
    """The body as text: read as bytes and decoded here (cheaper than a JS string for big values)."""
    return decode(await _data(response))


async def _data(response: Any) -> bytes:
    try:
        return py_bytes(await response.arrayBuffer())
    except Exception as error:  # the connection broke or timed out while reading
        raise KvUnavailable(f"the store's answer was cut off: {error}") from None


def decode(data: bytes) -> str:
    """UTF-8 text as the browser decodes it (an invalid sequence becomes U+FFFD)."""
    return data.decode("utf-8", errors="replace")
