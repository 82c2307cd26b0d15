"""JSON Pointers (RFC 6901): escaping reference tokens and splitting pointers."""

from __future__ import annotations

from app.core.errors import PatchError


def escape(token: str) -> str:
    """One reference token: ``~`` becomes ``~0`` and ``/`` becomes ``~1``."""
    if "~" in token or "/" in token:
        return token.replace("~", "~0").replace("/", "~1")
    return token


def unescape(token: str) -> str:
    if "~" in token:
        return token.replace("~1", "/").replace("~0", "~")
    return token


def join(pointer: str, token: str | int) -> str:
    """``pointer`` extended by one token (an object key or an array index)."""
    if isinstance(token, int):
        return f"{pointer}/{token}"
    return f"{pointer}/{escape(token)}"


def split(pointer: str) -> list[str]:
    """The unescaped reference tokens of ``pointer`` ("" is the whole document)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"JSON pointer {pointer!r} does not start with '/'")
    return [unescape(token) for token in pointer[1:].split("/")]


def strip_prefix(pointer: str, prefix: str) -> str:
    """``pointer`` relative to ``prefix`` (which must be a prefix of it, token-wise)."""
    if pointer == prefix:
        return ""
    if not pointer.startswith(prefix + "/"):
        raise ValueError(f"{pointer!r} is not under {prefix!r}")
    return pointer[len(prefix):]
