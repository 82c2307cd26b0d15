"""AppBundle: the Python packages the browser engine runs, as one zip (GET /_backstay/app.zip).

pyscript.toml unpacks it into ./app/ of the worker's file system, so the engine imports
app.core and app.browser exactly as CPython does. Built from the working tree on request and
cached until a source file changes, so an edit shows up on the next page load.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

#: The subpackages of app/ that run in the browser (never server or cli).
BROWSER_PACKAGES = ("core", "browser", "sample")


class AppBundle:
    def __init__(self, app_dir: Path) -> None:
        self._app_dir = app_dir
        self._cached: tuple[tuple[tuple[str, int, int], ...], bytes] | None = None

    def _sources(self) -> list[Path]:
        files = [self._app_dir / "__init__.py"]
        for package in BROWSER_PACKAGES:
            files.extend(sorted((self._app_dir / package).rglob("*.py")))
        return [path for path in files if path.is_file() and "__pycache__" not in path.parts]

    def build(self) -> bytes:
        sources = self._sources()
        signature = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in sources)
        if self._cached is not None and self._cached[0] == signature:
            return self._cached[1]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sources:
                archive.write(path, path.relative_to(self._app_dir).as_posix())
        data = buffer.getvalue()
        self._cached = (signature, data)
        return data

    async def endpoint(self, request: Request) -> Response:
        return Response(self.build(), media_type="application/zip", headers={"Cache-Control": "no-cache"})
