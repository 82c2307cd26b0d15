"""The Spark KV store's URL path of a key.

Written out rather than taken from ``urllib.parse``: importing that in the engine's worker costs
about a tenth of a second of every start (it pulls in ``ipaddress``).
"""

from __future__ import annotations

KV_PATH = "/_spark/kv"
#: The bytes a key's path segment keeps as they are (RFC 3986 unreserved); every other byte of
#: the key's UTF-8 is percent-encoded.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def key_path(key: str) -> str:
    """``/_spark/kv/<key>``, the key percent-encoded as ``urllib.parse.quote(key, safe="")``
    encodes it (UnicodeEncodeError for a key with a lone surrogate, as there)."""
    return KV_PATH + "/" + "".join(
        chr(byte) if byte in _UNRESERVED else f"%{byte:02X}" for byte in key.encode("utf-8"))
