"""House style holds: ruff on all Python, mypy --strict on the core."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_is_clean() -> None:
    result = run("ruff", "check", "app", "tests", "e2e", "bench", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_core_is_mypy_strict_clean() -> None:
    result = run("mypy", "--strict", "app/core")
    assert result.returncode == 0, result.stdout + result.stderr
