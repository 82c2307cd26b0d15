"""The engine's compiled modules kept between starts: a pack is used only for exactly the
sources it was made from, a damaged one never, and an import that fails with .pyc files in
place is made again from source."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import importlib.util
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.browser import bytecode_cache
from app.browser.bytecode_cache import collect, forget, import_root, missing, pack, restore, unpack


@pytest.fixture
def package(tmp_path: Path) -> Iterator[Path]:
    """A package ``bcpkg`` (two modules, one in a subpackage) importable from tmp_path."""
    root = tmp_path / "bcpkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("")
    (root / "one.py").write_text("VALUE = 1\n")
    (root / "sub" / "two.py").write_text("from bcpkg.one import VALUE\nDOUBLE = VALUE * 2\n")
    sys.path.insert(0, str(tmp_path))
    yield root
    sys.path.remove(str(tmp_path))
    for name in [key for key in sys.modules if key == "bcpkg" or key.startswith("bcpkg.")]:
        del sys.modules[name]


def _pycs(root: Path) -> list[Path]:
    return sorted(root.rglob("__pycache__/*.pyc"))


def _run(root: Path, code: str) -> str:
    """``code`` run by a new Python that imports from ``root``'s parent (-v lists which
    modules it read from a .pyc: "code object from")."""
    done = subprocess.run([sys.executable, "-v", "-c", code], cwd=root.parent, capture_output=True,
                          text=True, check=True, env={"PYTHONDONTWRITEBYTECODE": "1"})
    return done.stdout + "\n" + done.stderr


def _sealed(body: bytes) -> bytes:
    """``body`` after a pack's header, with a SHA-256 that checks out."""
    whole = bytecode_cache.PACK_MAGIC + bytecode_cache._interpreter() + body
    return whole + hashlib.sha256(whole).digest()


PYC = importlib.util.MAGIC_NUMBER + (0b11).to_bytes(4, "little") + bytes(8) + b"code"


def test_a_pack_round_trips_and_a_damaged_one_is_refused() -> None:
    files = {"a.py": PYC, "sub/b.py": PYC + bytes(range(256)), "c\u00e9.py": PYC[:16]}
    data = pack(files)
    assert unpack(data) == files
    assert unpack(pack({})) == {}
    for damaged in (data[:-1], data[:40], b"", data[:30] + bytes([data[30] ^ 1]) + data[31:],
                    data.replace(importlib.util.MAGIC_NUMBER, b"\x00\x00\r\n", 1)):
        assert unpack(damaged) is None


OTHER_BUILD = (sys.version[:-1] + ("x" if sys.version[-1] != "x" else "y")).encode()


@pytest.mark.parametrize(("magic", "version"), [
    (b"\x00\x00\r\n", sys.version.encode()),  # another bytecode format
    (importlib.util.MAGIC_NUMBER, OTHER_BUILD),  # the same magic number, another build
])
def test_a_pack_made_by_another_python_is_refused(monkeypatch: pytest.MonkeyPatch, magic: bytes,
                                                   version: bytes) -> None:
    interpreter = magic + struct.pack("<H", len(version)) + version
    with monkeypatch.context() as patched:
        patched.setattr(bytecode_cache, "_interpreter", lambda: interpreter)
        data = pack({"a.py": PYC})  # its SHA-256 checks out
    assert unpack(data) is None
    assert unpack(pack({"a.py": PYC})) == {"a.py": PYC}


@pytest.mark.parametrize("body", [
    struct.pack("<H", 40) + b"a.py",  # a path longer than what follows
    struct.pack("<H", 4) + b"a.py" + struct.pack("<I", 1000) + PYC,  # a .pyc longer than what follows
    struct.pack("<H", 4) + b"a\xffpy",  # a path that is not UTF-8
    struct.pack("<H", 4) + b"a.py" + struct.pack("<I", len(PYC)) + PYC + b"\x01",  # a record cut short
])
def test_a_sealed_pack_whose_records_do_not_add_up_is_refused(body: bytes) -> None:
    whole = struct.pack("<H", 4) + b"b.py" + struct.pack("<I", len(PYC)) + PYC
    assert unpack(_sealed(whole)) == {"b.py": PYC}
    assert unpack(_sealed(body)) is None


@pytest.mark.parametrize("flags", [0b00, 0b01])  # by time stamp; by hash, not checked
def test_a_pack_holding_a_pyc_python_would_not_check_against_its_source_is_refused(flags: int) -> None:
    unchecked = PYC[:4] + flags.to_bytes(4, "little") + PYC[8:]
    assert unpack(pack({"a.py": PYC})) == {"a.py": PYC}
    assert unpack(pack({"a.py": PYC, "b.py": unchecked})) is None
    assert unpack(pack({"a.py": PYC[:12]})) is None  # no room for a header


@pytest.mark.parametrize("path", ["../evil.py", "a\0.py", "/etc/evil.py", "a/../../evil.py", "a//b.py",
                                  "./a.py", "a\\b.py", "a.txt", ""])
def test_a_pack_naming_a_file_outside_the_package_is_refused(path: str) -> None:
    assert unpack(pack({"ok.py": PYC})) == {"ok.py": PYC}
    assert unpack(pack({"ok.py": PYC, path: PYC})) is None


def test_a_pack_made_after_a_start_puts_back_a_pyc_python_uses(package: Path) -> None:
    assert restore(package, None) == 0
    assert not _pycs(package) and missing(package) == 4
    data = asyncio.run(collect(package))
    assert len(_pycs(package)) == 4 and missing(package) == 0
    forget(package)
    assert not _pycs(package)
    assert restore(package, data) == 4
    assert len(_pycs(package)) == 4 and missing(package) == 0
    out = _run(package, "import bcpkg.sub.two as m; print('double', m.DOUBLE)")
    assert "double 2" in out
    assert "code object from" in out and "bcpkg/sub/__pycache__/two." in out


def test_a_module_whose_source_changed_is_compiled_from_its_source(package: Path) -> None:
    data = asyncio.run(collect(package))
    forget(package)
    (package / "one.py").write_text("VALUE = 21\n")
    assert restore(package, data) == 4
    assert missing(package) == 1
    out = _run(package, "import bcpkg.sub.two as m; print('double', m.DOUBLE)")
    assert "double 42" in out
    used = [line for line in out.splitlines() if "code object from" in line and "bcpkg" in line]
    assert any(line.endswith("bcpkg/one.py") for line in used), used  # compiled from its source
    assert any("bcpkg/sub/__pycache__/two." in line for line in used), used  # the .pyc that fits
    # the next pack has the module as it is now
    fresh = asyncio.run(collect(package))
    forget(package)
    assert restore(package, fresh) == 4 and missing(package) == 0


def test_a_module_a_later_release_removed_gets_no_pyc_and_no_folder(package: Path) -> None:
    files = unpack(asyncio.run(collect(package)))
    assert files is not None
    forget(package)
    files["gone/old.py"] = files["one.py"]
    assert restore(package, pack(files)) == 4
    assert not (package / "gone").exists()


def test_a_pyc_that_is_not_checked_against_its_source_does_not_count(package: Path) -> None:
    asyncio.run(collect(package))
    assert missing(package) == 0
    pyc = Path(importlib.util.cache_from_source(str(package / "one.py")))
    data = pyc.read_bytes()
    pyc.write_bytes(data[:4] + (0b01).to_bytes(4, "little") + data[8:])  # unchecked hash
    assert missing(package) == 1
    pyc.write_bytes(b"\x00\x00\r\n" + data[4:])  # another magic number
    assert missing(package) == 1
    pyc.write_bytes(data)
    assert missing(package) == 0


def test_a_damaged_pack_puts_nothing_back(package: Path) -> None:
    data = bytearray(asyncio.run(collect(package)))
    forget(package)
    data[len(data) // 2] ^= 0xFF
    assert restore(package, bytes(data)) == 0
    assert not _pycs(package)


def test_an_import_that_fails_with_pyc_files_in_place_is_made_again_from_source(package: Path) -> None:
    data = asyncio.run(collect(package))
    forget(package)
    files = unpack(data)
    assert files is not None
    # a .pyc whose header fits its source but whose code cannot be read
    files["sub/two.py"] = files["sub/two.py"][:16] + b"\xff\xff garbage"
    assert restore(package, pack(files)) == 4
    with pytest.raises(subprocess.CalledProcessError):  # what a plain import of it does
        _run(package, "import bcpkg.sub.two")
    module, retried = import_root(package, "bcpkg.sub.two", restored=True)
    assert module.DOUBLE == 2 and retried
    assert not _pycs(package)


def test_an_import_without_restored_pyc_files_is_not_tried_twice(package: Path) -> None:
    tries = package.parent / "tries"
    (package / "sub" / "two.py").write_text(
        f"open({str(tries)!r}, 'a').write('x')\nraise RuntimeError('broken module')\n")
    with pytest.raises(RuntimeError, match="broken module"):
        import_root(package, "bcpkg.sub.two", restored=False)
    assert tries.read_text() == "x"
    with pytest.raises(RuntimeError, match="broken module"):
        import_root(package, "bcpkg.sub.two", restored=True)
    assert tries.read_text() == "xxx"  # with .pyc files restored: tried again from source


def test_an_import_that_fails_from_source_too_says_why(package: Path) -> None:
    (package / "sub" / "two.py").write_text("raise RuntimeError('broken module')\n")
    with pytest.raises(RuntimeError, match="broken module"):
        import_root(package, "bcpkg.sub.two", restored=True)


def test_the_worker_script_exports_every_function_of_the_composition_root() -> None:
    import ast

    browser = Path(bytecode_cache.__file__).parent
    main = ast.parse((browser / "engine_main.py").read_text())
    exports = next(node.value for node in main.body if isinstance(node, ast.Assign)
                   and getattr(node.targets[0], "id", "") == "EXPORTS")
    names = ast.literal_eval(exports)
    root = ast.parse((browser / "engine_root.py").read_text())
    defined = {node.name for node in root.body if isinstance(node, ast.AsyncFunctionDef)}
    assert names and set(names) <= defined
    assert {"ready", "status", "list_versions", "restore_version"} <= set(names)
