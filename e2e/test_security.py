"""Another web site the user visits cannot change the hotel's data: real Chromium, a page on a
second origin, the real server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from harness import Server, wait_ready

GUESTS = "w3-hotel-guests"
EVIL_PAGE = b"<!doctype html><title>Cheap flights</title><p>Great deals!</p>"


@pytest.fixture
def evil_origin() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(EVIL_PAGE)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_page_of_another_site_cannot_write_or_read_the_store(
    page: Any, server: Server, evil_origin: str
) -> None:
    server.kv_set(GUESTS, [{"id": "g1", "name": "Ada"}])
    page.goto(evil_origin + "/")
    outcome = page.evaluate("""async (url) => {
        // A "simple" request: no preflight, sent whatever the server's CORS rules say.
        await fetch(url, {method: 'POST', mode: 'no-cors', body: '["pwned"]',
                          headers: {'Content-Type': 'text/plain'}});
        await fetch(url, {method: 'POST', mode: 'no-cors', body: '["pwned"]'});
        let read = 'blocked';
        try { read = await (await fetch(url)).text(); } catch (e) { read = 'blocked'; }
        return read; }""", f"{server.url}/_spark/kv/{GUESTS}")
    assert outcome == "blocked"  # no CORS headers: the answer is not readable
    assert server.kv_get(GUESTS) == [{"id": "g1", "name": "Ada"}]

    # The PMS's own page still writes, and Backstay still records.
    page.goto(server.url + "/")
    wait_ready(page)
    page.evaluate("(key) => window.spark.kv.set(key, [{id: 'g1', name: 'Ada K.'}])", GUESTS)
    assert server.kv_get(GUESTS) == [{"id": "g1", "name": "Ada K."}]
