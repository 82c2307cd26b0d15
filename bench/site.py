"""The site the browser benches load: the app's pages and code, and the bench's own pages,
all served by the real server (bench.site_server) from one folder.

The folder holds symbolic links to this checkout's index.html, PyScript configs, app/ and the
entries of static/, plus the bench's pages: the PMS without Backstay (OFF_PATH), the same with
fetch passed on by a script that does nothing else (PASS_FETCH_PMS_PATH), a bare PyScript worker
(BARE_PATH), the PMS with that bare worker in Backstay's place (BARE_PMS_PATH) and a blank page
(BLANK_PATH). Serving them with Playwright's request routing would be simpler, but routing
turns the browser's HTTP cache off for the whole context: every reload would then fetch Pyodide
and compile it again, which a user's browser never does on a warm reload.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE_PATH = "/bench-bare.html"
BLANK_PATH = "/bench-blank.html"
BARE_PMS_PATH = "/bench-pms-bare.html"
OFF_PATH = "/bench-off.html"
PASS_FETCH_PMS_PATH = "/bench-off-pass-fetch.html"
#: A script that replaces fetch with a function that only calls the browser's fetch: the least
#: any recorder wrapping fetch in the page does. Chromium charges the work that follows a
#: fetch's answer (the PMS rendering after a save) to the script that called fetch, so a long
#: animation frame after a save is charged to this script, though it adds no work of its own.
PASS_FETCH_SCRIPT = "/static/bench/pass_fetch.js"
PASS_FETCH_SOURCE = """(() => {
  const browserFetch = window.fetch.bind(window);
  window.fetch = function passFetch(input, init) { return browserFetch(input, init); };
})();
"""
#: The bare worker's page script (the pages' CSP runs scripts from the origin only).
BARE_SCRIPT = "/static/bench/bare.js"
BARE_JS_SOURCE = """window.__bareStarted = null;
new BroadcastChannel('bench-bare').onmessage = () => { window.__bareStarted = performance.now(); };
"""
#: The bare worker's Python (an inline one would be fetched from a blob: URL, which the CSP forbids).
BARE_WORKER = "/static/bench/bare.py"
BARE_WORKER_SOURCE = """from js import BroadcastChannel

BroadcastChannel.new("bench-bare").postMessage("started")
"""


def strip_backstay(html: str) -> str:
    """index.html without Backstay: no capture shim, no PyScript (core.js, core.css), no facade,
    no panel css, no <py-config>, no engine worker. Fails if one of them is not found."""
    patterns = {
        "capture shim": r'<script src="/static/capture\.js"></script>',
        "pyscript css": r'<link rel="stylesheet" href="/static/vendor/pyscript-[^"]*/core\.css">',
        "panel css": r'<link rel="stylesheet" href="/static/backstay/panel\.css">',
        "pyscript core": r'<script type="module" src="/static/vendor/pyscript-[^"]*/core\.js"></script>',
        "facade": r'<script type="module" src="/static/backstay/facade\.js"></script>',
        "py-config": r"<py-config[^>]*>\s*</py-config>",
        "engine worker": r'<script type="py" worker[^>]*>\s*</script>',
    }
    for name, pattern in patterns.items():
        html, count = re.subn(pattern, "", html)
        if count != 1:
            raise RuntimeError(f"index.html changed: the {name} ({pattern}) was found {count} times")
    if "capture.js" in html or 'type="py"' in html or "py-config" in html or "facade.js" in html:
        raise RuntimeError("index.html still refers to Backstay after stripping it")
    return html


def pms_passing_fetch(html: str) -> str:
    """The PMS page without Backstay (strip_backstay), with PASS_FETCH_SCRIPT where capture.js
    was: loaded before the PMS's scripts, as capture.js is."""
    capture = '<script src="/static/capture.js"></script>'
    if html.count(capture) != 1:
        raise RuntimeError(f"index.html changed: {capture} was found {html.count(capture)} times")
    return strip_backstay(html.replace(capture, f'<script src="{PASS_FETCH_SCRIPT}"></script>' + capture))


def bare_page(origin: str) -> str:
    """A PyScript worker doing nothing but saying it started; the same PyScript and Pyodide as the
    page and its engine (index.html's core.js, pyscript.toml's interpreter)."""
    core = re.search(r'src="(/static/vendor/pyscript-[^"]*/core\.js)"', (ROOT / "index.html").read_text())
    if core is None:
        raise RuntimeError("index.html loads no PyScript core.js")
    interpreter = tomllib.loads((ROOT / "pyscript.toml").read_text())["interpreter"]
    config = json.dumps({"interpreter": origin + "/" + interpreter.removeprefix("./")})
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>bare PyScript worker</title>
<script src="{BARE_SCRIPT}"></script>
<script type="module" src="{core.group(1)}"></script>
</head><body>
<script type="py" worker config='{config}' src="{BARE_WORKER}"></script>
</body></html>"""


def pms_with_bare_worker(html: str, origin: str) -> str:
    """The PMS page without Backstay (strip_backstay), with the bare worker of bare_page in its
    place: the same page, loading the same hotel, with an engine that does nothing."""
    bare = bare_page(origin)
    head = bare[bare.index(f'<script src="{BARE_SCRIPT}">'):bare.index("</head>")]
    worker = bare[bare.index('<script type="py" worker'):bare.index("</body>")]
    page = strip_backstay(html)
    if page.count("</head>") != 1 or page.count("</body>") != 1:
        raise RuntimeError("index.html has no single </head> and </body>")
    return page.replace("</head>", head + "</head>").replace("</body>", worker + "</body>")


def build(folder: Path, origin: str) -> Path:
    """Make the site in ``folder`` (new) for a server at ``origin``; returns ``folder``."""
    folder.mkdir()
    for entry in [*ROOT.glob("*.html"), *ROOT.glob("pyscript*.toml"), ROOT / "app"]:
        (folder / entry.name).symlink_to(entry)
    static = folder / "static"
    static.mkdir()
    for entry in (ROOT / "static").iterdir():
        (static / entry.name).symlink_to(entry)
    (static / "bench").mkdir()
    (static / "bench" / "bare.js").write_text(BARE_JS_SOURCE)
    (static / "bench" / "bare.py").write_text(BARE_WORKER_SOURCE)
    (static / "bench" / "pass_fetch.js").write_text(PASS_FETCH_SOURCE)
    index = (ROOT / "index.html").read_text()
    pages = {
        OFF_PATH: strip_backstay(index),
        PASS_FETCH_PMS_PATH: pms_passing_fetch(index),
        BARE_PATH: bare_page(origin),
        BARE_PMS_PATH: pms_with_bare_worker(index, origin),
        BLANK_PATH: "<!doctype html><html><head><meta charset='utf-8'><title>blank</title></head></html>",
    }
    for path, text in pages.items():
        page = folder / path.removeprefix("/")
        if page.exists():  # a link to the checkout: writing would overwrite a file of it
            raise RuntimeError(f"the checkout has a page named like a bench page: {page.name}")
        page.write_text(text)
    return folder
