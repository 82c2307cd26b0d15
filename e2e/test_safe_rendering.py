"""Record contents, keys, field names and logins are shown as text, never run, and the pages
work under their Content-Security-Policy with no violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import ENGINE_TIMEOUT_MS, Server, wait_ready
from test_panel import open_panel

LOGIN = '<img src=x onerror="window.__xss=1">'
KEY = '<svg onload="window.__xss=2">'
FIELD = '<i onmouseover="window.__xss=3">f</i>'
VALUE = '<script>window.__xss=4</script>"quoted" & more'
RECORD_ID = '<b onclick="window.__xss=5">r1</b>'
GUESTS = "w3-hotel-guests"

WATCH_JS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`); });
"""


@pytest.fixture
def hostile_server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(data=tmp_path / "data", user={"BACKSTAY_USER_LOGIN": LOGIN})
    srv.data.mkdir()
    srv.start()
    yield srv
    srv.stop()


def test_payloads_everywhere_are_shown_as_text_under_the_csp(page: Any, hostile_server: Server) -> None:
    server = hostile_server
    page.add_init_script(WATCH_JS)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    server.kv_set(KEY, [{"id": RECORD_ID, FIELD: VALUE}])
    server.kv_set(GUESTS, [{"id": "g1", "firstName": VALUE, "notes": LOGIN}])
    response = page.goto(server.url + "/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval';" in csp  # no inline scripts
    assert "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    wait_ready(page)
    # A write of every payload, recorded as versions whose descriptions quote them.
    page.evaluate("""([key, field, value, id]) => window.spark.kv.set(key,
        [{id, [field]: value + '!'}, {id: 'r2', [field]: value}])""", [KEY, FIELD, VALUE, RECORD_ID])
    page.evaluate("(key) => window.spark.kv.set(key, [{id: 'g1', firstName: 'Ada', notes: 'x'}])", GUESTS)

    open_panel(page, server)
    rows = page.get_by_test_id("version-row")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length >= 3",
                           timeout=ENGINE_TIMEOUT_MS)
    panel = page.get_by_test_id("backstay-panel")
    assert LOGIN in panel.inner_text()  # who: the login, as text
    rows.nth(1).click()  # the ChangeLog of the write to the hostile key
    page.get_by_test_id("change-list").wait_for()
    detail = page.get_by_test_id("version-detail").inner_text()
    assert RECORD_ID in detail and FIELD in detail and VALUE in detail
    rows.last.get_by_test_id("compare").click()
    page.get_by_test_id("compare-totals").wait_for()
    assert VALUE in page.get_by_test_id("version-detail").inner_text()
    rows.last.get_by_test_id("restore").click()
    page.get_by_test_id("preview").click()
    page.get_by_test_id("preview-summary").wait_for(timeout=ENGINE_TIMEOUT_MS)
    page.get_by_test_id("confirm").click()
    page.get_by_test_id("restore-outcome").wait_for(timeout=ENGINE_TIMEOUT_MS)
    section = page.get_by_test_id("audit-section")
    section.locator("summary").click()
    section.locator("input[name=text]").fill("r1")
    section.get_by_test_id("trail").click()  # Filter
    page.wait_for_function("""(id) => {
        const rows = [...document.querySelectorAll('[data-testid=trail-row]')];
        return rows.length > 0 && rows.every((row) => row.textContent.includes(id)); }""",
                           arg=RECORD_ID)
    text = section.inner_text()
    assert LOGIN in text and RECORD_ID in text and "restore" in text
    page.get_by_test_id("permissions-section").locator("summary").click()
    assert LOGIN in page.get_by_test_id("permissions-view").inner_text()
    page.mouse.move(10, 10)
    page.wait_for_timeout(500)

    assert page.evaluate("() => window.__xss") is None
    assert page.evaluate("() => window.__violations") == []
    assert not [line for line in console if "Content Security Policy" in line]
    assert server.kv_get(KEY) == [{"id": RECORD_ID, FIELD: VALUE}]  # restored
