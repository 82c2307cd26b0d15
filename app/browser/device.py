"""This browser as the audit trail names it: "Chrome on Linux · 3f2a", kept in Backstay's store
(``meta/device``) so it stays the same across reloads, and differs between browsers."""

from __future__ import annotations

import re
import secrets

from app.core.ports import Batch, VersionStore

DEVICE_KEY = "device"
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device_label(user_agent: str, suffix: str) -> str:
    browser = next((name for token, name in _BROWSERS if token in user_agent), "A browser")
    system = next((name for token, name in _SYSTEMS if token in user_agent), "")
    label = f"{browser} on {system}" if system else browser
    return f"{label} · {re.sub(r'[^0-9a-f]', '', suffix)[:4]}"


async def device_of(store: VersionStore, user_agent: str) -> str:
    """The label stored for this browser, made and stored on first use."""
    stored = await store.get("meta", DEVICE_KEY)
    if stored:
        return stored.decode("utf-8")
    label = device_label(user_agent, secrets.token_hex(2))
    batch = Batch()
    batch.put("meta", DEVICE_KEY, label.encode("utf-8"))
    await store.apply(batch)
    return label
