"""app/core stays pure: stdlib (+ jsonpatch/jsonpointer) only, never a browser or server API."""

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
    files = sorted(CORE.glob("*.py"))
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
    """Module bodies hold only imports, definitions, constants and docstrings."""
    allowed = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
               ast.Assign, ast.AnnAssign, ast.Expr)
    for path in sorted(CORE.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            assert isinstance(node, allowed), f"{path.name}:{node.lineno} runs code at import"
            if isinstance(node, ast.Expr):
                assert isinstance(node.value, ast.Constant), f"{path.name}:{node.lineno} calls"
