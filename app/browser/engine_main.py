"""The engine worker's script (`<script type="py" worker name="engine">`).

Puts back the compiled modules an earlier start kept (app.browser.bytecode_cache, from the
browser's Cache Storage), imports the engine's composition root (app.browser.engine_root, which
starts the engine) and exports its functions: static/backstay/facade.js calls them as
window.backstay. The exports are defined at once and wait for the import; once the engine is
ready and has been idle a while, the modules are compiled and kept for the next start if any
had no fitting .pyc.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import js  # type: ignore[import-not-found]

import app
from app.browser import bytecode_cache
from app.browser.ffi import js_bytes, py_bytes

EXPORTS = ("ready", "list_versions", "get_version", "state_at", "compare_versions",
           "preview_restore", "restore_version", "export_backup", "preview_import",
           "import_backup", "delete_version", "cleanup", "settings", "set_settings",
           "passphrase", "set_passphrase",
           "audit_log", "audit_trail", "export_audit_trail",
           "verify", "open_panel", "permissions", "set_permission", "acknowledge_notices", "status",
           "start_new_history",
           "retire")
CACHE_NAME = "backstay-bytecode"
#: The Cache Storage entry's key: the path of a URL of this origin that is never requested.
CACHE_PATH = "/_backstay/bytecode-pack"
#: A new pack is made this long after the start's indexing of the head is done (or, should that
#: not end, KEEP_WAIT_S after the engine is ready): compiling takes the worker about 0.4 s, in
#: steps of one module, so the start's own work goes first.
KEEP_AFTER_S = 1.0
KEEP_WAIT_S = 60.0
#: Reading the pack back is given this long; a start does not wait longer for a shortcut.
READ_TIMEOUT_S = 3.0

ROOT = Path(app.__file__).parent
# When this script started, in the worker's clock (whose origin is the worker's creation): the
# interpreter's own boot ends here (a diagnostic, as the bench reports a start's steps).
_SCRIPT_STARTED_MS = float(js.performance.now())
sys.dont_write_bytecode = True  # .pyc files come from the pack only (Pyodide's default too)


async def _cache() -> Any:
    """The Cache Storage cache of the pack, or None where the browser offers none (a page not
    in a secure context)."""
    if not hasattr(js, "caches") or not js.caches:
        return None
    return await js.caches.open(CACHE_NAME)


def _cache_url() -> str:
    return str(js.location.origin) + CACHE_PATH


async def _drop_pack() -> None:
    cache = await _cache()
    if cache is not None:
        await cache.delete(_cache_url())


async def _read_pack() -> bytes | None:
    async def read() -> bytes | None:
        cache = await _cache()
        response = await cache.match(_cache_url()) if cache is not None else None
        return py_bytes(await response.arrayBuffer()) if response else None

    try:
        return await asyncio.wait_for(read(), READ_TIMEOUT_S)
    except Exception:  # the pack is a shortcut: any failure (or a hang) means compiling from source
        return None


async def _load() -> tuple[ModuleType, bool]:
    """The composition root, imported (which starts the engine), and whether the import took a
    second try without the .pyc files."""
    started = time.perf_counter()
    try:
        written = bytecode_cache.restore(ROOT, await _read_pack())
    except Exception:  # e.g. the file system refused a write: start from source
        with contextlib.suppress(Exception):
            bytecode_cache.forget(ROOT)
        written = 0
    put_back_ms = (time.perf_counter() - started) * 1000
    try:
        root, retried = bytecode_cache.import_root(ROOT, "app.browser.engine_root", written > 0)
    except Exception:
        if written:  # not from the pack's modules either: no later start tries them again
            with contextlib.suppress(Exception):
                await _drop_pack()
        raise
    with contextlib.suppress(Exception):
        root.timings().update(bytecode_ms=put_back_ms, bytecode_written=float(written),
                              worker_origin_ms=float(js.performance.timeOrigin),
                              script_ms=_SCRIPT_STARTED_MS, imported_ms=float(js.performance.now()))
    return root, retried


_loading = asyncio.ensure_future(_load())


async def _keep() -> None:
    """Make and keep a new pack when some modules have no fitting .pyc (none was kept, or a
    new release changed them); delete the pack when an import failed with its .pyc files."""
    try:
        root, retried = await _loading
    except Exception as error:  # said to every caller too (_export)
        js.console.error(f"Backstay's engine could not be loaded: {error}")
        return
    try:
        if retried:
            await _drop_pack()
            return
        cache = await _cache()
        if cache is None:
            return
        await root.ready()
        waited = 0.0
        while "index_ms" not in root.timings() and waited < KEEP_WAIT_S:
            await asyncio.sleep(0.25)
            waited += 0.25
        await asyncio.sleep(KEEP_AFTER_S)
        stale = bytecode_cache.missing(ROOT)
        root.timings()["bytecode_missing"] = float(stale)
        if stale:
            data = await bytecode_cache.collect(ROOT)
            await cache.put(_cache_url(), js.Response.new(js_bytes(data)))
    except Exception as error:  # a full disk or a closed cache costs only the next start's time
        js.console.warn(f"Backstay kept no compiled modules for the next start: {error}")
    finally:
        with contextlib.suppress(Exception):
            root.timings()["modules_kept"] = 1.0  # done with, kept or not (Engine.wants_renewal)


def _export(name: str) -> Callable[..., Awaitable[str]]:
    async def call(*args: Any) -> str:
        try:
            root, _ = await _loading
        except Exception as error:  # noqa: BLE001 - said to the caller as every error is
            return json.dumps({"error": f"Backstay's engine could not be loaded ({type(error).__name__}: "
                                        f"{error}). The PMS's writes are still kept in this "
                                        "browser's journal and are recorded once it loads: reload "
                                        "the page, and tell your administrator if this persists."})
        return str(await getattr(root, name)(*args))

    call.__name__ = name
    return call


for _name in EXPORTS:
    globals()[_name] = _export(_name)
_keeping = asyncio.ensure_future(_keep())

__export__ = list(EXPORTS)
