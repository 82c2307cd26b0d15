"""StaticSite: the files of the project that the browser may fetch, with their media types.

Served (relative to the project root):
  /                          index.html
  /<name>.html, /pyscript*.toml   pages and PyScript configs at the root
  /static/**                 the capture shim, CSS, and static/vendor/** (the vendored runtimes)
  /app/core/**, /app/browser/**, /app/sample/**   Python sources the browser loads
Nothing else: app/server, app/cli, data/, dotfiles and __pycache__ are never served.

Caching: everything is `no-cache` (revalidate every time) except /static/vendor/**, which is
versioned by path and so is cached for a year as immutable.
"""

from __future__ import annotations

import fnmatch
import hashlib
from pathlib import Path, PurePosixPath

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"

#: URL folders (first segments) that map to the same folder of the project root.
SERVED_TREES: tuple[tuple[str, ...], ...] = (
    ("static",),
    ("app", "core"),
    ("app", "browser"),
    ("app", "sample"),
)
#: Root-level file names that may be served.
ROOT_FILE_PATTERNS = ("*.html", "pyscript*.toml")
VENDOR_TREE = ("static", "vendor")
_HIDDEN_SEGMENTS = {"__pycache__", "node_modules"}

MEDIA_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".cjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".py": "text/x-python; charset=utf-8",
    ".toml": "application/toml",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".ts": "text/plain; charset=utf-8",
    ".wasm": "application/wasm",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".tar": "application/x-tar",
    ".gz": "application/gzip",
    ".tgz": "application/gzip",
    ".bz2": "application/x-bzip2",
    ".xz": "application/x-xz",
    ".data": "application/octet-stream",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
DEFAULT_MEDIA_TYPE = "application/octet-stream"


def media_type_for(name: str) -> str:
    """The Content-Type for a file name, by its last suffix (case-insensitive)."""
    return MEDIA_TYPES.get(PurePosixPath(name).suffix.lower(), DEFAULT_MEDIA_TYPE)


class StaticSite:
    """Maps URL paths to files of the project root, refusing anything outside the served set."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def resolve(self, url_path: str) -> tuple[Path, str] | None:
        """The file and Cache-Control for a decoded URL path, or None if it is not served."""
        segments = url_path.split("/")[1:] if url_path.startswith("/") else None
        if segments is None:
            return None
        if segments == [""]:
            segments = ["index.html"]
        if not all(_is_plain_segment(segment) for segment in segments):
            return None
        if len(segments) == 1:
            if not any(fnmatch.fnmatchcase(segments[0], p) for p in ROOT_FILE_PATTERNS):
                return None
        elif not any(tuple(segments[: len(tree)]) == tree for tree in SERVED_TREES):
            return None
        path = self._root.joinpath(*segments)
        if not path.is_file():
            return None
        vendored = tuple(segments[: len(VENDOR_TREE)]) == VENDOR_TREE and len(segments) > 2
        return path, IMMUTABLE if vendored else NO_CACHE

    async def endpoint(self, request: Request) -> Response:
        """GET/HEAD handler for every path the other routes do not claim."""
        path_text: str = request.scope["path"]  # decoded; request.url.path would split at a '?'
        found = self.resolve(path_text)
        if found is None:
            return _not_found(path_text)
        path, cache_control = found
        stat = path.stat()
        etag = _etag(stat.st_mtime_ns, stat.st_size, path.name)
        headers = {"Cache-Control": cache_control, "ETag": etag}
        if path.suffix == ".html":
            headers.update(PAGE_HEADERS)
        if path_text == CAPTURE_SCRIPT:
            headers.update(CAPTURE_SCRIPT_HEADERS)
        if etag in _etags(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=headers)
        return FileResponse(path, media_type=media_type_for(path.name), headers=headers, stat_result=stat)


#: The Content-Security-Policy of the pages: what the app needs, and no more. Scripts only from
#: this origin, never inline; 'wasm-unsafe-eval' lets Pyodide compile WebAssembly; 'unsafe-eval'
#: is there only because PyScript 0.7 builds its hooks with the Function constructor (core.js)
#: and cannot start without it - drop it when PyScript no longer needs it. Workers from this
#: origin or blob: URLs (PyScript's, and capture.js's journal worker: without it the page writes
#: the journal itself, on its main thread); requests only to this origin; style attributes set by
#: scripts (style-src 'unsafe-inline'); no plugins; no framing by any site.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'",
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "img-src 'self' data: blob:",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
#: Backstay's service worker (it records the PMS's writes once it controls the page) is
#: registered from /static/ for the whole origin, which this header allows.
CAPTURE_SCRIPT = "/static/capture_sw.js"
CAPTURE_SCRIPT_HEADERS = {"Service-Worker-Allowed": "/"}
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _is_plain_segment(segment: str) -> bool:
    return (
        segment not in ("", ".", "..")
        and not segment.startswith(".")
        and segment not in _HIDDEN_SEGMENTS
        and "\\" not in segment
        and "\x00" not in segment
    )


def _etag(mtime_ns: int, size: int, name: str) -> str:
    digest = hashlib.md5(f"{mtime_ns}-{size}-{name}".encode(), usedforsecurity=False).hexdigest()
    return f'"{digest}"'


def _etags(header: str) -> set[str]:
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}


def _not_found(path: str) -> Response:
    return JSONResponse({"error": f"not found: {path}"}, status_code=404, headers={"Cache-Control": NO_CACHE})
