"""The engine's compiled modules, kept in Cache Storage between page loads: the next start puts
them back and imports from them; a damaged pack is not used, the engine starts from source all
the same, and a good pack is made again. Real Chromium, real server, real Cache Storage."""

from __future__ import annotations

import time
from typing import Any

from harness import Server, status, versions, wait_ready, wait_status, wait_versions

GUESTS = "w3-hotel-guests"
PACK_JS = """async () => {
  const cache = await caches.open("backstay-bytecode");
  const found = await cache.match(location.origin + "/_backstay/bytecode-pack");
  return found ? Array.from(new Uint8Array(await found.arrayBuffer())) : null;
}"""
DAMAGE_JS = """async () => {
  const cache = await caches.open("backstay-bytecode");
  const url = location.origin + "/_backstay/bytecode-pack";
  const bytes = new Uint8Array(await (await cache.match(url)).arrayBuffer());
  bytes[bytes.length >> 1] ^= 0xff;
  await cache.put(url, new Response(bytes));
}"""


def guest(n: int, first: str = "Ada") -> dict[str, Any]:
    return {"id": f"g-{n}", "firstName": first, "lastName": "Okafor"}


def wait_pack(page: Any, timeout_s: float = 60) -> list[int]:
    """The pack's bytes, once the engine has kept one (after its start's work)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = page.evaluate(PACK_JS)
        if found:
            return list(found)
        page.wait_for_timeout(500)
    raise AssertionError(f"no pack of compiled modules after {timeout_s} s; status {status(page)}")


def edit_is_recorded(page: Any, first: str) -> None:
    count = len(versions(page))
    page.evaluate("([key, value]) => window.spark.kv.set(key, value)", [GUESTS, [guest(1, first), guest(2)]])
    found = wait_versions(page, count + 1)
    detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("update", "g-1")]


def test_a_start_puts_back_the_modules_the_last_one_compiled(page: Any, server: Server) -> None:
    server.kv_set(GUESTS, [guest(1), guest(2)])
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    assert status(page)["timings"]["bytecode_written"] == 0  # nothing kept yet: all from source
    compiled = wait_status(page, lambda s: "bytecode_missing" in s["timings"], "the modules checked")
    modules = compiled["timings"]["bytecode_missing"]
    assert modules > 50  # every module of app/ had no .pyc
    pack = wait_pack(page)

    page.reload()
    wait_ready(page)
    assert status(page)["timings"]["bytecode_written"] == modules
    edit_is_recorded(page, "Grace")
    settled = wait_status(page, lambda s: "bytecode_missing" in s["timings"], "the modules checked")
    assert settled["timings"]["bytecode_missing"] == 0  # every one fitted: no new pack was due
    assert page.evaluate(PACK_JS) == pack
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True


def test_a_damaged_pack_is_not_used_and_a_good_one_is_made_again(page: Any, server: Server) -> None:
    server.kv_set(GUESTS, [guest(1), guest(2)])
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    pack = wait_pack(page)
    page.evaluate(DAMAGE_JS)
    damaged = page.evaluate(PACK_JS)
    assert damaged != pack

    page.reload()
    wait_ready(page)
    assert status(page)["timings"]["bytecode_written"] == 0  # the damaged pack was refused whole
    edit_is_recorded(page, "Grace")
    wait_status(page, lambda s: s["timings"].get("bytecode_missing", 0) > 50, "the modules checked")
    deadline = time.monotonic() + 30
    while page.evaluate(PACK_JS) == damaged and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert page.evaluate(PACK_JS) != damaged  # made again (used by the next start, below)

    page.reload()
    wait_ready(page)
    assert status(page)["timings"]["bytecode_written"] > 50
    edit_is_recorded(page, "Hopper")
    assert status(page)["lastError"] == ""
