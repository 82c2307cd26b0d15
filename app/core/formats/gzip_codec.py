"""GzipCompressor: the Compressor port backed by the stdlib gzip module (level 6)."""

from __future__ import annotations

import gzip
import zlib


class GzipCompressor:
    def __init__(self, level: int = 6) -> None:
        self.level = level

    def compress(self, data: bytes) -> bytes:
        return gzip.compress(data, compresslevel=self.level, mtime=0)

    def decompress(self, data: bytes) -> bytes:
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"not valid gzip: {error}") from None
