"""Composition root of the engine worker (imported by its script, app/browser/engine_main.py).

Wires the core's Chain to IndexedDB, pako (CompressionStream for checkpoints) and the live store,
starts the engine, and defines the functions engine_main exports (its ``EXPORTS``), which
static/backstay/facade.js exposes as window.backstay. Every one answers JSON text: the result,
or ``{"error": message}`` - never a Python traceback.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import js  # type: ignore[import-not-found]
from pyscript.js_modules import (  # type: ignore[import-not-found]
    backstay_gzip,
    backstay_idb,
    backstay_keyring,
    backstay_tiling,
    pako,
)

from app.browser.api import Api, answer
from app.browser.coordination import Coordination
from app.browser.device import device_of
from app.browser.engine import Engine
from app.browser.heap import heap_mib
from app.browser.idb_store import IdbStore
from app.browser.journal import Journal
from app.browser.keyring import Keyring
from app.browser.native_gzip import NativeGzip
from app.browser.notices import Notices
from app.browser.pako_codec import PakoCompressor
from app.browser.spark_kv import SparkKv
from app.core.chain import Chain
from app.core.clock import SystemClock

_compressor = PakoCompressor(pako)


async def _open_chain() -> Chain:
    store = await IdbStore.open(backstay_idb)
    device = await device_of(store, str(js.navigator.userAgent))
    return Chain(store, SystemClock(), _compressor, blob_compressor=NativeGzip(backstay_gzip),
                 defer_heads=True, device=device)


async def _open_journal() -> Journal:
    return await Journal.open(backstay_idb)


_engine = Engine(_open_chain, _open_journal, SparkKv(tiling=backstay_tiling), Coordination(backstay_idb),
                 Notices(), heap_mib)
# From the worker's start until its Python runs (the interpreter, packages and imports).
_engine.timings["python_ms"] = float(js.performance.now())
_api = Api(_engine, _compressor, Keyring(backstay_keyring))


async def _answer(work: Callable[[], Awaitable[str]]) -> str:
    return await answer(work())


async def ready() -> str:
    await _engine.ready()
    return json.dumps(True)


async def list_versions() -> str:
    return await _answer(_api.list_versions)


async def get_version(version_id: str) -> str:
    return await _answer(lambda: _api.get_version(str(version_id)))


async def state_at(version_id: str) -> str:
    return await _answer(lambda: _api.state_at(str(version_id)))


async def compare_versions(a: str, b: str) -> str:
    """``a`` and ``b``: JSON text of a version id, {at: ms} or "today"."""
    return await _answer(lambda: _api.compare_versions(str(a), str(b)))


async def preview_restore(target: str, options: str) -> str:
    """``target`` and ``options``: JSON text (see README, "Calling Backstay")."""
    return await _answer(lambda: _api.preview_restore(str(target), str(options)))


async def restore_version(target: str, options: str) -> str:
    return await _answer(lambda: _api.restore_version(str(target), str(options)))


async def export_backup(options: str) -> str:
    """``options``: JSON text {version?, modules?, passphrase?, compress?}."""
    return await _answer(lambda: _api.backups.export(str(options)))


async def preview_import(data: str, options: str) -> str:
    """``data``: the file's bytes, base64; ``options``: JSON text (see import_backup)."""
    return await _answer(lambda: _api.backups.preview_import(str(data), str(options)))


async def import_backup(data: str, options: str) -> str:
    """``options``: JSON text {mode?, modules?, records?, resolutions?, requireResolutions?,
    expectHead?, passphrase?}."""
    return await _answer(lambda: _api.backups.import_backup(str(data), str(options)))


async def delete_version(version_id: str) -> str:
    return await _answer(lambda: _api.cleanup.delete_version(str(version_id)))


async def cleanup(options: str) -> str:
    """``options``: JSON text {retention?, dryRun?}."""
    return await _answer(lambda: _api.cleanup.cleanup(str(options)))


async def settings() -> str:
    return await _answer(_api.cleanup.settings)


async def set_settings(settings_text: str) -> str:
    return await _answer(lambda: _api.cleanup.set_settings(str(settings_text)))


async def passphrase() -> str:
    return await _answer(lambda: _api.passphrase.status())


async def set_passphrase(options: str) -> str:
    """``options``: JSON text {passphrase (null removes it), current?}."""
    return await _answer(lambda: _api.passphrase.set(str(options)))


async def audit_log() -> str:
    return await _answer(_api.audit_log)


async def audit_trail(keep: str) -> str:
    return await _answer(lambda: _api.audit_trail(str(keep)))


async def export_audit_trail(file_format: str, keep: str) -> str:
    return await _answer(lambda: _api.export_audit_trail(str(file_format), str(keep)))


async def verify(options: str) -> str:
    return await _answer(lambda: _api.verify(str(options)))


async def open_panel() -> str:
    return await _answer(_api.open_panel)


async def permissions() -> str:
    return await _answer(_api.permissions)


async def set_permission(permission: str, roles: str) -> str:
    return await _answer(lambda: _api.set_permission(str(permission), str(roles)))


async def start_new_history(options: str) -> str:
    """``options``: JSON text {confirm: true}."""
    return await _answer(lambda: _api.start_new_history(str(options)))


async def acknowledge_notices() -> str:
    async def work() -> str:
        await _engine.acknowledge_notices()
        return json.dumps(True)
    return await _answer(work)


async def status() -> str:
    return _engine.status()


async def retire() -> str:
    """Make this worker ready to be stopped (Engine.retire); the page's facade asks, once the
    worker's status says ``renew`` and a new worker is ready to take over."""
    return json.dumps(await _engine.retire())


def timings() -> dict[str, float]:
    """The engine's status timings (engine_main adds how its start went)."""
    return _engine.timings


_task = asyncio.ensure_future(_engine.run())
