"""The core's exception types: every failure the core reports is one of these (or ValueError)."""

from __future__ import annotations


class CoreError(Exception):
    """Base of the core's own errors."""


class UnknownFormatVersion(CoreError):
    """A stored object carries a formatVersion this reader does not know; it refuses to read it."""


class CorruptData(CoreError):
    """A stored object could not be decoded, or its content does not match its hash."""


class VersionNotFound(CoreError, KeyError):
    """No version has the given id."""

    def __str__(self) -> str:
        return f"no version {self.args[0]!r}" if self.args else "no such version"


class CannotDeleteHead(CoreError, ValueError):
    """The head version describes the current data and cannot be deleted."""


class PatchError(CoreError, ValueError):
    """A JSON patch operation could not be applied (RFC 6902 says: stop, the patch is invalid)."""
