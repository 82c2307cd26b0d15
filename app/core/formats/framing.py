"""How stored content is framed: gzip when it pays, plain UTF-8 JSON otherwise.

A stored value whose first two bytes are the gzip magic ``1f 8b`` is gzip (RFC 1952) of UTF-8
JSON text; anything else is the UTF-8 JSON text itself (JSON text never starts with byte 0x1f).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.core.errors import CorruptData
from app.core.ports import Compressor

GZIP_MAGIC = b"\x1f\x8b"
#: Content of at least this many bytes is gzip'd before it is stored (and kept so when that is
#: shorter). A single-record edit's payload of about 500 bytes stores as about 250: the before
#: and after record repeat each other. Under this, gzip's 18 bytes of frame rarely pay.
COMPRESS_AT = 128


def pack(data: bytes, compressor: Compressor, *, compress_at: int = COMPRESS_AT) -> bytes:
    if len(data) >= compress_at:
        packed = compressor.compress(data)
        if len(packed) < len(data):
            return packed
    return data


async def pack_async(
    data: bytes, compress: Callable[[bytes], Awaitable[bytes]], *, compress_at: int = COMPRESS_AT
) -> bytes:
    """pack, with an asynchronous gzip."""
    if len(data) >= compress_at:
        packed = await compress(data)
        if len(packed) < len(data):
            return packed
    return data


def unpack(stored: bytes, compressor: Compressor) -> bytes:
    if stored[:2] == GZIP_MAGIC:
        try:
            return compressor.decompress(stored)
        except ValueError as error:
            raise CorruptData(f"stored value is not valid gzip: {error}") from None
    return stored
