"""app/core stays pure (stdlib + jsonpatch/jsonpointer, never a browser or server API), and its
concept packages import one way: formats < diff < history < retention/restore < chain (capture,
which only says which keys are versioned, is a leaf restore may use too)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[3] / "app" / "core"
FORBIDDEN = {"js", "pyodide", "pyscript", "sqlite3", "http", "threading", "multiprocessing"}
ALLOWED_THIRD_PARTY = {"jsonpatch", "jsonpointer"}


def _imports(path: Path) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append(("app.core." + (node.module or ""), node.lineno))
    return found


def test_core_imports_only_stdlib_and_itself() -> None:
    problems = []
    files = sorted(CORE.rglob("*.py"))
    assert files
    for path in files:
        for name, line in _imports(path):
            top = name.split(".")[0]
            if top in FORBIDDEN:
                problems.append(f"{path.name}:{line} imports {name} (forbidden in app/core)")
            elif top == "app" and not name.startswith("app.core"):
                problems.append(f"{path.name}:{line} imports {name} (outside app/core)")
            elif top not in sys.stdlib_module_names and top not in ALLOWED_THIRD_PARTY | {"app"}:
                problems.append(f"{path.name}:{line} imports {name} (not stdlib)")
    assert not problems, "\n".join(problems)


def test_core_does_nothing_at_import_time() -> None:
    """Module bodies hold only imports (an ``if TYPE_CHECKING:`` block of imports too),
    definitions, constants and docstrings."""
    allowed = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
               ast.Assign, ast.AnnAssign, ast.Expr)
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
                assert not node.orelse and all(
                    isinstance(inner, ast.Import | ast.ImportFrom) for inner in node.body
                ), f"{path.name}:{node.lineno} runs code at import"
                continue
            assert isinstance(node, allowed), f"{path.name}:{node.lineno} runs code at import"
            if isinstance(node, ast.Expr):
                assert isinstance(node.value, ast.Constant), f"{path.name}:{node.lineno} calls"


# What each part of app/core may import besides itself. The base modules (errors, clock, ports,
# memory_store) sit under everything; chain.py, the facade the engine talks to, sits on top.
BASE = {"errors", "clock", "ports", "memory_store"}
MAY_IMPORT = {
    "base": set(),
    "formats": {"base"},
    "capture": {"base"},
    "diff": {"base", "formats"},
    "history": {"base", "formats", "diff"},
    "retention": {"base", "formats", "diff", "history"},
    "restore": {"base", "formats", "diff", "history", "capture"},
    "audit": {"base", "formats"},
    "access": {"base", "formats"},
    "chain": {"base", "formats", "diff", "history", "retention", "restore", "capture", "audit",
              "access"},
}


def _part(path: Path) -> str:
    relative = path.relative_to(CORE)
    if len(relative.parts) > 1:
        return relative.parts[0]
    return "base" if relative.stem in BASE else relative.stem


def test_core_packages_import_one_way() -> None:
    problems = []
    files = sorted(CORE.rglob("*.py"))
    parts = {_part(path) for path in files if path.name != "__init__.py"}
    assert parts <= set(MAY_IMPORT), f"a part of app/core without rules: {parts - set(MAY_IMPORT)}"
    for path in files:
        part = _part(path)
        allowed = MAY_IMPORT.get(part, set()) | {part}
        for name, line in _imports(path):
            if not name.startswith("app.core."):
                continue
            target = name.split(".")[2]
            target = "base" if target in BASE else target
            if target not in allowed:
                problems.append(f"{path.relative_to(CORE)}:{line} ({part}) imports {name}")
    assert not problems, "\n".join(problems)
