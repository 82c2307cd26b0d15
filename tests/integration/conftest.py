"""Fixtures of the server's integration tests: an in-process app (Starlette TestClient) over a
real SQLite file, a miniature project tree for the static routes, and the real server in a
subprocess (`python -m app.server`) for restarts and concurrency."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from server_harness import PROJECT_FILES, AppFactory, ServerProcess

from app.server.app import create_app
from app.server.config import Config, SparkUser

with warnings.catch_warnings():  # Starlette 1.x suggests httpx2; httpx is what we pin.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A miniature project root holding PROJECT_FILES."""
    root = tmp_path / "project"
    for name, content in PROJECT_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


@pytest.fixture
def config(tmp_path: Path, project: Path) -> Config:
    data = tmp_path / "data"
    data.mkdir()
    return Config(port=0, data_dir=data, project_root=project)


@pytest.fixture
def make_client(config: Config) -> Iterator[AppFactory]:
    """Build a TestClient for `config`, optionally with a different user; closes them all."""
    opened: list[TestClient] = []

    def make(user: SparkUser | None = None, **changes: object) -> TestClient:
        chosen = replace(config, **changes) if user is None else replace(config, user=user, **changes)
        client = TestClient(create_app(chosen), base_url="http://127.0.0.1:8000")
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A real server over tmp_path/data (not yet started); stopped after the test."""
    running = ServerProcess(data=tmp_path / "server-data")
    yield running
    running.stop()
