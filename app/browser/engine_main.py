"""Composition root of the engine worker (the `<script type="py" worker name="engine">`).

Wires the core's Chain to IndexedDB, pako and the live store, starts the engine, and exports the
functions that static/backstay/facade.js exposes as window.backstay.
"""

from __future__ import annotations

import asyncio

from pyscript.js_modules import backstay_idb, pako  # type: ignore[import-not-found]

from app.browser.coordination import Coordination
from app.browser.engine import Engine
from app.browser.idb_store import IdbStore
from app.browser.journal import Journal
from app.browser.pako_codec import PakoCompressor
from app.browser.spark_kv import SparkKv
from app.core.chain import Chain
from app.core.clock import SystemClock

_engine: Engine | None = None
_started = asyncio.Event()


async def _main() -> None:
    global _engine
    store = await IdbStore.open(backstay_idb)
    journal = await Journal.open(backstay_idb)
    chain = Chain(store, SystemClock(), PakoCompressor(pako))
    _engine = Engine(chain, journal, SparkKv(), Coordination(backstay_idb))
    _started.set()
    await _engine.run()


async def _engine_now() -> Engine:
    await _started.wait()
    assert _engine is not None
    return _engine


async def ready() -> bool:
    engine = await _engine_now()
    await engine.ready()
    return True


async def list_versions() -> str:
    return await (await _engine_now()).list_versions()


async def get_version(version_id: str) -> str:
    return await (await _engine_now()).get_version(version_id)


async def status() -> str:
    return (await _engine_now()).status()


_task = asyncio.ensure_future(_main())

__export__ = ["ready", "list_versions", "get_version", "status"]
