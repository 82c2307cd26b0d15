"""Prepare static/vendor/: the browser runtimes, served by our own server.

Inputs come from the npm registry at set-up (npm ci → node_modules/); nothing here is committed.
Run by `make vendor`; a second run with nothing changed
does no work beyond a few stat calls.

Layout produced (paths carry versions, so the server may cache them forever):
  static/vendor/pyodide-<v>/      pyodide.mjs, pyodide.asm.mjs, pyodide.asm.wasm, python_stdlib.zip,
                                  pyodide-lock.json
  static/vendor/pyscript-<v>/     @pyscript/core dist (core.js, core.css and its chunks)
  static/vendor/pako-<v>/         pako.esm.min.mjs
  static/vendor/spark-<v>/        @github/spark runtime (spark.js and the chunks it imports), with
                                  the build-time values Vite would substitute filled in
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
SPARK_ENTRY = "spark.js"
IMPORT_RE = re.compile(r"""(?:import|export)\s[^'"]*?from\s+['"](\./[^'"]+)['"]""")


def package_version(name: str) -> str:
    manifest = json.loads((NODE / name / "package.json").read_text())
    return str(manifest["version"])


def copy_if_changed(src: Path, dst: Path) -> None:
    if dst.exists():
        have, want = dst.stat(), src.stat()
        if have.st_size == want.st_size and have.st_mtime >= want.st_mtime:
            return
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def vendor_pyodide() -> None:
    out = VENDOR / f"pyodide-{package_version('pyodide')}"
    for name in PYODIDE_FILES:
        copy_if_changed(NODE / "pyodide" / name, out / name)


def vendor_pyscript() -> None:
    out = VENDOR / f"pyscript-{package_version('@pyscript/core')}"
    dist = NODE / "@pyscript" / "core" / "dist"
    for src in dist.iterdir():
        if src.is_file() and not src.name.endswith(".map"):
            copy_if_changed(src, out / src.name)


def vendor_pako() -> None:
    out = VENDOR / f"pako-{package_version('pako')}"
    copy_if_changed(NODE / "pako" / "dist" / "browser" / "pako.esm.min.mjs", out / "pako.esm.min.mjs")


def spark_source(text: str) -> str:
    """Fill in what Vite's `define` supplies when a Spark app is built."""
    text = text.replace("import.meta.env.DEV", "false")
    return text.replace("BASE_KV_SERVICE_URL", '"/_spark/kv"')


def vendor_spark() -> None:
    out = VENDOR / f"spark-{package_version('@github/spark')}"
    dist = NODE / "@github" / "spark" / "dist"
    pending, seen = [SPARK_ENTRY], set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        text = (dist / name).read_text()
        pending.extend(m.removeprefix("./") for m in IMPORT_RE.findall(text))
        target = out / name
        patched = spark_source(text)
        if not target.exists() or target.read_text() != patched:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(patched)


def main() -> int:
    if not NODE.is_dir():
        print("node_modules/ is missing: run `npm ci` first (make vendor does).", file=sys.stderr)
        return 1
    vendor_pyodide()
    vendor_pyscript()
    vendor_pako()
    vendor_spark()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
