"""This browser's name in the audit trail: made once, kept, and readable."""

from __future__ import annotations

import asyncio

from app.browser.device import device_label, device_of
from app.core.memory_store import MemoryStore

CHROME_LINUX = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/131.0.0.0 Safari/537.36")
EDGE_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


def test_labels_name_the_browser_and_the_system() -> None:
    assert device_label(CHROME_LINUX, "3f2a") == "Chrome on Linux · 3f2a"
    assert device_label(EDGE_WINDOWS, "00ff") == "Edge on Windows · 00ff"
    assert device_label(SAFARI_IPHONE, "abcd") == "Safari on iOS · abcd"
    assert device_label("curl/8", "<b>") == "A browser · b"


def test_the_label_is_made_once_and_kept() -> None:
    async def scenario() -> None:
        store = MemoryStore()
        first = await device_of(store, CHROME_LINUX)
        assert first.startswith("Chrome on Linux · ") and len(first) == len("Chrome on Linux · 3f2a")
        assert await device_of(store, EDGE_WINDOWS) == first

    asyncio.run(scenario())
