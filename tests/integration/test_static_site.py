"""The static site: what is served, with which media type and caching, and what never is."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from server_harness import PROJECT_FILES
from starlette.testclient import TestClient

from app.server.app import create_app
from app.server.config import Config
from app.server.static_site import IMMUTABLE, NO_CACHE, media_type_for


def test_root_serves_index_html(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.content == PROJECT_FILES["index.html"]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == NO_CACHE


@pytest.mark.parametrize(
    ("path", "media_type", "cache_control"),
    [
        ("/index.html", "text/html; charset=utf-8", NO_CACHE),
        ("/pyscript.toml", "application/toml", NO_CACHE),
        ("/static/capture.js", "text/javascript; charset=utf-8", NO_CACHE),
        ("/static/css/pms.css", "text/css; charset=utf-8", NO_CACHE),
        ("/static/vendor/pyodide-1.0/pyodide.mjs", "text/javascript; charset=utf-8", IMMUTABLE),
        ("/static/vendor/pyodide-1.0/pyodide.asm.wasm", "application/wasm", IMMUTABLE),
        ("/static/vendor/pyodide-1.0/python_stdlib.zip", "application/zip", IMMUTABLE),
        ("/static/vendor/pyodide-1.0/pyodide-lock.json", "application/json", IMMUTABLE),
        ("/static/vendor/wheels/jsonpatch-1.48-py3-none-any.whl", "application/zip", IMMUTABLE),
        ("/static/vendor/spark/runtime.tar", "application/x-tar", IMMUTABLE),
        ("/app/core/chain.py", "text/x-python; charset=utf-8", NO_CACHE),
        ("/app/core/__init__.py", "text/x-python; charset=utf-8", NO_CACHE),
        ("/app/browser/engine_main.py", "text/x-python; charset=utf-8", NO_CACHE),
        ("/app/sample/hotel.py", "text/x-python; charset=utf-8", NO_CACHE),
    ],
)
def test_served_files_have_their_media_type_and_caching(
    client: TestClient, path: str, media_type: str, cache_control: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.content == PROJECT_FILES[path.lstrip("/")]
    assert response.headers["content-type"] == media_type
    assert response.headers["cache-control"] == cache_control
    assert "content-encoding" not in response.headers


@pytest.mark.parametrize(
    "path",
    [
        "/app/server/app.py",
        "/app/cli/main.py",
        "/app/__init__.py",
        "/README.md",
        "/data/kv.sqlite3",
        "/static/.hidden",
        "/app/core/__pycache__/chain.cpython-311.pyc",
        "/static/missing.js",
        "/static/vendor/pyodide-1.0/nothing.wasm",
        "/static/",
        "/app/core",
        "/static/../app/server/app.py",
        "/static/%2e%2e/app/server/app.py",
        "/app/core/..%2Fserver/app.py",
        "/static/..%5Capp%5Cserver%5Capp.py",
        "/nothing-here",
    ],
)
def test_anything_else_is_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, path
    assert "error" in response.json()
    assert b"SECRET" not in response.content


def test_conditional_get_gives_304(client: TestClient) -> None:
    first = client.get("/static/capture.js")
    etag = first.headers["etag"]
    again = client.get("/static/capture.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["cache-control"] == NO_CACHE


def test_the_capture_service_worker_may_serve_the_whole_origin(client: TestClient) -> None:
    assert client.get("/static/capture_sw.js").headers["service-worker-allowed"] == "/"
    assert "service-worker-allowed" not in client.get("/static/capture.js").headers
    assert "service-worker-allowed" not in client.get("/index.html").headers


def test_head_gives_headers_only(client: TestClient) -> None:
    response = client.head("/static/vendor/pyodide-1.0/pyodide.asm.wasm")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/wasm"
    assert response.content == b""


def test_static_files_reject_writes(client: TestClient) -> None:
    assert client.post("/static/capture.js", content=b"x").status_code == 405


@pytest.mark.parametrize(
    ("name", "media_type"),
    [("a.MJS", "text/javascript; charset=utf-8"), ("x.tgz", "application/gzip"),
     ("x.data", "application/octet-stream"), ("noext", "application/octet-stream"),
     ("x.svg", "image/svg+xml"), ("x.map", "application/json")],
)
def test_media_type_table(name: str, media_type: str) -> None:
    assert media_type_for(name) == media_type


def test_the_real_project_serves_its_page_and_never_the_server() -> None:
    with (tempfile.TemporaryDirectory() as data,
          TestClient(create_app(Config(data_dir=Path(data))), base_url="http://127.0.0.1") as real):
        assert real.get("/app/server/app.py").status_code == 404
        assert real.get("/app/server/__main__.py").status_code == 404
        assert real.get("/app/sample/hotel.py").status_code == 200
        assert real.get("/app/sample/hotel.py").headers["content-type"].startswith("text/x-python")
