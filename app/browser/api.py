"""Api: what window.backstay answers (through engine_main), as JSON text.

Reads (versions, states, comparisons, previews, the audit log) are answered by any tab's engine
at the latest head; a restore runs in the engine that drains the journal, after it has recorded
every write made so far (Engine.exclusive).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import Any

from app.browser.engine import Engine
from app.browser.problems import ApiError
from app.browser.restorer import RestoreFailed
from app.core.audit.log import entries
from app.core.chain import Chain
from app.core.errors import VersionNotFound
from app.core.formats.json_value import Json, compact_json, parse_json
from app.core.ports import StoreFull
from app.core.restore.request import RequestError, RestoreRequest, Target
from app.core.restore.sides import resolve

#: A preview lists at most this many records per module (and says how many more there are).
PREVIEW_RECORDS = 200


async def answer(work: Awaitable[str]) -> str:
    """JSON text: the result, or ``{"error": message}`` - never a Python traceback."""
    try:
        return await work
    except ApiError as error:
        return json.dumps({"error": str(error)})
    except Exception as error:  # noqa: BLE001 - the caller gets a message, not a traceback
        return json.dumps({"error": f"Backstay could not answer: {type(error).__name__}: {error}"})


class Api:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        engine.serve_requests(self._serve)

    async def _serve(self, kind: str, args: list[Any]) -> str:
        """Another tab's request, carried out by this (the draining) engine."""
        if kind == "restore" and len(args) == 2:
            return await answer(self.restore_version(str(args[0]), str(args[1])))
        return json.dumps({"error": f"unknown request {kind!r}"})

    async def list_versions(self) -> str:
        chain = await self._engine.fresh_chain()
        return _json_text([version.to_dict() for version in await chain.list_versions()])

    async def get_version(self, version_id: str) -> str:
        chain = await self._engine.fresh_chain()
        with _known_version(version_id):
            detail = await chain.get_version(version_id)
        return _json_text(detail.to_dict())

    async def state_at(self, version_id: str) -> str:
        """The data as it was at a version: {key: value}."""
        chain = await self._engine.fresh_chain()
        with _known_version(version_id):
            state = await chain.state_at(version_id)
        return _json_text(dict(state))

    async def compare_versions(self, a: str, b: str) -> str:
        """The field-level differences from state ``a`` to state ``b``; each is a version id,
        ``{at: ms}`` or ``"today"`` (JSON text)."""
        chain = await self._engine.fresh_chain()
        with _request():
            a_id = await _version_of(chain, _parsed(a))
            b_id = await _version_of(chain, _parsed(b))
            return _json_text((await chain.compare(a_id, b_id)).to_dict())

    async def preview_restore(self, target: str, options: str) -> str:
        chain = await self._engine.fresh_chain()
        with _request():
            plan = await chain.plan_restore(RestoreRequest.parse(_parsed(target), _parsed(options)))
        return _json_text(plan.to_dict(PREVIEW_RECORDS))

    async def restore_version(self, target: str, options: str) -> str:
        if not self._engine.drainer:  # one engine writes: the one that drains, in another tab
            return await self._engine.ask_drainer("restore", [target, options])
        with _request():
            request = RestoreRequest.parse(_parsed(target), _parsed(options))
            async with self._engine.exclusive() as chain:
                try:
                    result = await self._engine.restorer.restore(chain, request, self._engine.user)
                except RestoreFailed as error:
                    raise ApiError(str(error)) from None
                except StoreFull:
                    raise ApiError("This browser's storage is full, so nothing was restored: free "
                                   "space (or delete old versions) and try again") from None
        return _json_text(result)

    async def audit_log(self) -> str:
        chain = await self._engine.fresh_chain()
        return _json_text([entry.to_dict() for entry in await entries(chain.store)])


async def _version_of(chain: Chain, raw: Json) -> str:
    if raw == "today":
        head = chain.head_version_id
        if head is None:
            raise RequestError("There is no version yet")
        return head
    return resolve(await chain.history(), Target.parse(raw)).id


def _parsed(text: str) -> Json:
    try:
        return parse_json(text)
    except ValueError:
        raise RequestError("the arguments must be JSON values") from None


def _json_text(value: Any) -> str:
    """JSON text for the facade; values Python's json cannot write as-is (lone surrogates,
    numbers beyond a double) keep their exact spelling."""
    return compact_json(value).decode("utf-8")


@contextmanager
def _request() -> Iterator[None]:
    """Turn the core's request errors into the API's messages."""
    try:
        yield
    except (RequestError, VersionNotFound) as error:
        raise ApiError(str(error)) from None


@contextmanager
def _known_version(version_id: str) -> Iterator[None]:
    """Turn the core's VersionNotFound into the API's message."""
    try:
        yield
    except VersionNotFound:
        raise ApiError(f"No version {version_id!r}") from None
