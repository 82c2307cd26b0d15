"""IdbStore passes the same VersionStore contract as MemoryStore, inside Chromium's Pyodide.

The contract checks (tests/unit/core/store_contract.py) are handed to the page by Playwright
routes, so the server never serves test code.
"""

from __future__ import annotations

import json
from typing import Any

from harness import ENGINE_TIMEOUT_MS, ROOT, RequestLog, Server

CONTRACT = ROOT / "tests" / "unit" / "core" / "store_contract.py"

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script type="module" src="/static/vendor/pyscript-0.7.31/core.js"></script></head><body>
<py-config>{
  "interpreter": "/static/vendor/pyodide-314.0.7/pyodide.mjs",
  "files": {"/_backstay/app.zip": "./app/*", "/e2e-contract/store_contract.py": "./store_contract.py"},
  "js_modules": {"main": {"/static/backstay/idb.mjs": "backstay_idb"}}
}</py-config>
<script type="py" async>
import json, itertools
import js
from pyscript.js_modules import backstay_idb
from app.browser.idb_store import IdbStore
from store_contract import check_store_contract

names = itertools.count()

async def make_store():
    return await IdbStore.open(backstay_idb, f"contract-{next(names)}")

try:
    results = await check_store_contract(make_store)
    js.window.contractResult = json.dumps({"ok": True, "results": results})
except Exception as error:
    js.window.contractResult = json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"})
</script></body></html>"""


def test_idb_store_passes_the_store_contract(page: Any, server: Server, requests_seen: RequestLog) -> None:
    page.route(server.url + "/e2e-contract/page.html",
               lambda route: route.fulfill(body=PAGE, content_type="text/html"))
    page.route(server.url + "/e2e-contract/store_contract.py",
               lambda route: route.fulfill(body=CONTRACT.read_text(), content_type="text/x-python"))
    page.goto(server.url + "/e2e-contract/page.html")
    page.wait_for_function("() => window.contractResult !== undefined", timeout=ENGINE_TIMEOUT_MS)
    outcome = json.loads(page.evaluate("() => window.contractResult"))
    assert outcome["ok"], outcome
    assert len(outcome["results"]) >= 10
    assert set(outcome["results"].values()) == {"ok"}
    assert requests_seen.outside(server.url) == []
