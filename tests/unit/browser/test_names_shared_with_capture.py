"""Names static/capture.js (and its service worker) share with the engine's Python: the journal
channel both speak on, and the header that marks the engine's own writes (neither recorder
journals them). Each side spells them itself; these must agree. Read as text: the Python modules
import the browser's `js`."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def constant(path: str, pattern: str) -> str:
    found = re.findall(pattern, (ROOT / path).read_text())
    assert len(found) == 1, (path, pattern, found)
    return str(found[0])


def test_the_journal_channel_is_named_alike_in_capture_js_and_the_engine() -> None:
    js_name = constant("static/capture.js", r'const CHANNEL = "([^"]+)";')
    assert js_name == constant("app/browser/coordination.py", r'JOURNAL_CHANNEL = "([^"]+)"')


def test_the_engine_marks_its_writes_with_the_header_capture_js_skips() -> None:
    js_name = constant("static/capture.js", r'const OWN_WRITE_HEADER = "([^"]+)";')
    assert js_name == constant("app/browser/spark_kv.py", r'OWN_WRITE_HEADER = "([^"]+)"')
    # The service worker takes kvWrite (which skips the header) from capture.js: no copy of its own.
    worker = (ROOT / "static/capture_sw.js").read_text()
    assert re.search(r"kvWrite\(request\.url, request\.method, request\.headers\)", worker)
    assert "OWN_WRITE_HEADER" not in worker
