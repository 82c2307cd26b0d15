"""The size of this worker's WebAssembly memory: Pyodide's heap, which only ever grows."""

from __future__ import annotations


def heap_mib() -> float:
    """MiB of WebAssembly memory this interpreter holds (0 where it cannot be read)."""
    try:
        import pyodide_js  # type: ignore[import-not-found]

        return float(pyodide_js._module.HEAPU8.length) / 2**20
    except Exception:  # noqa: BLE001 - a diagnostic only
        return 0.0
