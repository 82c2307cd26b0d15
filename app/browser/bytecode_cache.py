"""BytecodeCache: the engine's compiled Python modules, kept from one page load to the next.

Pyodide compiles every module of app/ from its source at each start: about 0.15 s of every
warm reload (no .pyc can be shipped with the source: the server's CPython is not Pyodide's).
Once a start is done, the engine compiles its modules into "checked-hash" .pyc files (PEP 552:
each names a hash of its source, and Python uses one only for exactly that source, compiling
the source otherwise) and the worker keeps them, as one pack, in the browser's Cache Storage;
the next start writes them back into __pycache__ before it imports the engine.

The pack is a shortcut and nothing else: a missing, unreadable or damaged one (its digest does
not check out), one made by another Python, and the .pyc of a module whose source changed since
are not used, and the modules are compiled from source as before. Should an import fail with
the .pyc files in place all the same, they are removed and the import is made again from source.

No ``js`` here: the worker's script (engine_main) reads and writes the Cache Storage entry.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import importlib.util
import os
import struct
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

#: A pack: this, the .pyc magic number and ``sys.version`` of the Python that made it (the
#: length of the latter as u16 first), then per module (in path order) the length of its path
#: (u16), the path (UTF-8, relative to the package, "/"-separated), the length of its .pyc
#: (u32) and the .pyc; then the SHA-256 of everything before (docs/FORMAT.md, "Compiled modules").
PACK_MAGIC = b"backstay-bytecode 2\n"
_CHECKED_HASH = 0b11  # a hash-based .pyc that Python checks against its source


def _interpreter() -> bytes:
    """Which Python a pack is for: its .pyc magic number and its version text."""
    version = sys.version.encode("utf-8")
    return importlib.util.MAGIC_NUMBER + struct.pack("<H", len(version)) + version


def _safe(path: str) -> bool:
    """A module's path in a pack names a file under the package, and nothing else."""
    parts = path.split("/")
    return path.endswith(".py") and "\\" not in path and "\0" not in path and all(
        part not in ("", ".", "..") for part in parts)


def pack(files: Mapping[str, bytes]) -> bytes:
    parts = [PACK_MAGIC, _interpreter()]
    for path in sorted(files):
        name = path.encode("utf-8")
        parts += [struct.pack("<H", len(name)), name, struct.pack("<I", len(files[path])), files[path]]
    body = b"".join(parts)
    return body + hashlib.sha256(body).digest()


def unpack(data: bytes) -> dict[str, bytes] | None:
    """The .pyc files of a pack, or None for one that is damaged, cut short, made by another
    Python, naming a file outside the package, or holding a .pyc that Python would not check
    against its source."""
    interpreter = _interpreter()
    head = len(PACK_MAGIC) + len(interpreter)
    body = data[:-32]
    if (len(data) < head + 32 or not data.startswith(PACK_MAGIC)
            or data[len(PACK_MAGIC):head] != interpreter
            or hashlib.sha256(body).digest() != data[-32:]):
        return None
    files: dict[str, bytes] = {}
    at = head
    try:
        while at < len(body):
            (length,) = struct.unpack_from("<H", body, at)
            path = body[at + 2:at + 2 + length].decode("utf-8")
            at += 2 + length
            (size,) = struct.unpack_from("<I", body, at)
            files[path] = body[at + 4:at + 4 + size]
            at += 4 + size
    except (struct.error, UnicodeDecodeError):
        return None
    if at != len(body) or not all(_safe(path) and _checked(pyc) for path, pyc in files.items()):
        return None
    return files


def sources(root: Path) -> dict[str, Path]:
    """Every module source under the package directory ``root``, by its path in a pack."""
    return {path.relative_to(root).as_posix(): path for path in sorted(root.rglob("*.py"))
            if "__pycache__" not in path.parts}


def _checked(pyc: bytes) -> bool:
    """A .pyc of this Python that Python checks against its source before using it."""
    return (len(pyc) >= 16 and pyc[:4] == importlib.util.MAGIC_NUMBER
            and int.from_bytes(pyc[4:8], "little") == _CHECKED_HASH)


def _fits(pyc: bytes, source: bytes) -> bool:
    return _checked(pyc) and pyc[8:16] == importlib.util.source_hash(source)


def restore(root: Path, data: bytes | None) -> int:
    """Write the .pyc of each module of the pack ``data`` whose source is under ``root``
    where Python looks for it; how many. The sources are not read here: Python checks each
    .pyc against its source as it imports it (and compiles the source of one that does not
    fit), and ``missing`` tells later whether a new pack is due."""
    files = unpack(data) if data else None
    folders: set[str] = set()
    written = 0
    for name, pyc in (files or {}).items():  # os, not pathlib: this is on every start's path
        source = os.path.join(root, name)
        if not os.path.isfile(source):  # a module a later release removed
            continue
        target = importlib.util.cache_from_source(source)
        folder = os.path.dirname(target)
        if folder not in folders:
            os.makedirs(folder, exist_ok=True)
            folders.add(folder)
        with open(target, "wb") as out:
            out.write(pyc)
        written += 1
    return written


def missing(root: Path) -> int:
    """How many modules under ``root`` have no .pyc of exactly their source."""
    count = 0
    for path in sources(root).values():
        target = Path(importlib.util.cache_from_source(str(path)))
        if not target.exists() or not _fits(target.read_bytes(), path.read_bytes()):
            count += 1
    return count


async def collect(root: Path) -> bytes:
    """A pack of every module under ``root``, compiled (or its fitting .pyc reused), letting
    other tasks run between modules."""
    import py_compile  # only when a pack is made

    files: dict[str, bytes] = {}
    for name, path in sources(root).items():
        target = Path(importlib.util.cache_from_source(str(path)))
        pyc = target.read_bytes() if target.exists() else b""
        if not _fits(pyc, path.read_bytes()):
            py_compile.compile(str(path), cfile=str(target), doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
            pyc = target.read_bytes()
        files[name] = pyc
        await asyncio.sleep(0)
    return pack(files)


def forget(root: Path) -> None:
    """Remove every .pyc under ``root``."""
    for pyc in root.rglob("__pycache__/*.pyc"):
        pyc.unlink(missing_ok=True)


def import_root(root: Path, name: str, restored: bool) -> tuple[ModuleType, bool]:
    """Import module ``name`` of the package at ``root``, and whether that took a second try:
    should the import fail while ``restored`` .pyc files are in place, it is made again with
    every .pyc under ``root`` removed (the error of that import, if it fails too)."""
    try:
        return importlib.import_module(name), False
    except Exception:
        if not restored:
            raise
        forget(root)
        package = root.name
        for loaded in [key for key in sys.modules if key == package or key.startswith(package + ".")]:
            del sys.modules[loaded]
        importlib.invalidate_caches()
        return importlib.import_module(name), True
