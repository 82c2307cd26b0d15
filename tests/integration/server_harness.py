"""What the server's integration tests share: the miniature project the static tests serve,
and the real server (`python -m app.server`) in a subprocess on a free port."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
BANNER = "Backstay is running at "

#: The miniature project the static tests serve: path -> content.
PROJECT_FILES: dict[str, bytes] = {
    "index.html": b"<!doctype html><title>PMS</title>",
    "pyscript.toml": b'name = "test"\n',
    "README.md": b"not served",
    "static/capture.js": b"// shim",
    "static/capture_sw.js": b"// service worker",
    "static/css/pms.css": b"body{}",
    "static/vendor/pyodide-1.0/pyodide.mjs": b"export {}",
    "static/vendor/pyodide-1.0/pyodide.asm.wasm": b"\x00asm\x01\x00\x00\x00",
    "static/vendor/pyodide-1.0/python_stdlib.zip": b"PK\x05\x06" + b"\x00" * 18,
    "static/vendor/pyodide-1.0/pyodide-lock.json": b"{}",
    "static/vendor/wheels/jsonpatch-1.48-py3-none-any.whl": b"PK\x05\x06" + b"\x00" * 18,
    "static/vendor/spark/runtime.tar": b"tar",
    "static/.hidden": b"secret",
    "app/__init__.py": b"",
    "app/core/__init__.py": b"",
    "app/core/chain.py": b"X = 1\n",
    "app/browser/engine_main.py": b"print('engine')\n",
    "app/sample/hotel.py": b"# sample\n",
    "app/core/__pycache__/chain.cpython-311.pyc": b"\x00",
    "app/server/app.py": b"SECRET = 1\n",
    "app/cli/main.py": b"SECRET = 1\n",
    "data/kv.sqlite3": b"not served",
}

#: make_client(user=None, **config_changes) -> an entered TestClient.
AppFactory = Callable[..., Any]


@dataclass
class ServerProcess:
    """The real server (`python -m app.server`) in a subprocess on a free port."""

    data: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[str] | None = None
    url: str = ""
    output: list[str] = field(default_factory=list)

    def start(self, timeout: float = 30) -> str:
        env = {**os.environ, "BACKSTAY_PORT": "0", "BACKSTAY_DATA": str(self.data), **self.env}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.server"], cwd=ROOT, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(self.process, lines), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            if BANNER in line:
                self.url = line.split(BANNER, 1)[1].split()[0].rstrip("/")
                self._wait_ready(deadline)
                return self.url
        self.stop()
        raise RuntimeError("the server did not start:\n" + "".join(self.output))

    def _pump(self, process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.output.append(line)
            lines.put(line)
        lines.put(None)

    def _wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/_spark/user", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("the server printed its URL but does not answer")

    def stop(self) -> int | None:
        """Stop the server as Ctrl+C would (SIGINT); returns its exit code."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(2)
            try:
                return process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        return process.wait(timeout=15)

    def kill(self) -> None:
        """Kill the server abruptly (SIGKILL), as a crash or power cut of the process would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=15)
            self.process = None
