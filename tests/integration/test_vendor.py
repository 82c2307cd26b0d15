"""The vendored runtimes (prepared by `make vendor`) are all the page needs, on our origin."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "static" / "vendor"


def local_path(url: str) -> Path:
    assert url.startswith("./") and "://" not in url, f"{url} is not a path on our origin"
    return ROOT / url.removeprefix("./")


def test_every_url_of_the_pyscript_configs_is_vendored_or_ours() -> None:
    for name in ("pyscript.toml", "pyscript-panel.toml"):
        config = tomllib.loads((ROOT / name).read_text())
        assert local_path(config["interpreter"]).is_file()
        for url in config.get("files", {}):
            if url != "./_backstay/app.zip":  # built by the server from app/
                assert local_path(url).is_file(), url
        for modules in config.get("js_modules", {}).values():
            for url in modules:
                assert local_path(url).is_file(), url


def test_the_page_loads_only_local_scripts_that_exist() -> None:
    html = (ROOT / "index.html").read_text()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    for url in sources:
        if url.startswith("#"):  # the PMS's own routes
            continue
        assert url.startswith("/") and not url.startswith("//"), url
        if url.endswith((".js", ".mjs", ".css", ".toml", ".py")):
            assert (ROOT / url.lstrip("/")).is_file(), url


def test_the_spark_runtime_has_its_build_time_values_filled_in() -> None:
    [spark] = VENDOR.glob("spark-*")
    sources = {path.name: path.read_text() for path in spark.glob("*.js")}
    assert "spark.js" in sources and any(name.startswith("kv-") for name in sources)
    for name, text in sources.items():
        assert "import.meta.env" not in text, name
        assert not re.search(r"(?<![\"\w])BASE_KV_SERVICE_URL", text), name
    for name, text in sources.items():
        for imported in re.findall(r"from\s+'(\./[^']+)'", text):
            assert imported.removeprefix("./") in sources, f"{name} imports missing {imported}"


def test_pyodide_is_complete_for_offline_use() -> None:
    [pyodide] = VENDOR.glob("pyodide-*")
    for name in ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
                 "pyodide-lock.json"):
        assert (pyodide / name).is_file(), name
