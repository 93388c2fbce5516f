"""Archived HTTP payloads, decoded as the crawl decoded them and never past the crawl's size cap.

A WARC ``response`` record keeps the body as received (archive first, parse second): still
content-encoded, and possibly a decompression bomb that the crawl refused to inflate past
``DOWNLOAD_MAXSIZE`` but archived all the same. :func:`record_payload` is how every offline
reader (``reparse``, ``sitecheck``, ``addsite --from-warc``) gets a record's body:

* the payload is read from warcio's ``raw_stream`` in 64 KiB chunks, never from
  ``content_stream()``: that one inflates without any limit, knows neither ``x-gzip`` nor
  ``zstd``, and its brotli reader fails with brotli 1.2 (``'brotli.Decompressor' object has no
  attribute 'unused_data'``). A chunked transfer coding, which other tools archive as sent (our
  writer stores the body Scrapy de-chunked), is undone by warcio's ``ChunkedDataReader``;
* every ``Content-Encoding`` the crawl accepts (Scrapy's ``HttpCompressionMiddleware``: gzip,
  x-gzip, deflate, br, zstd) is undone, the last one applied first, by the very decoders that
  middleware uses (``scrapy.utils.gz.gunzip`` and ``scrapy.utils._compression``), which stop as
  soon as the output passes ``max_size``.

``max_size`` is the crawl's ``DOWNLOAD_MAXSIZE``, passed in by the caller; 0 means no cap, as in
Scrapy. It bounds both the archived (raw) payload and the decoded one, as the crawl does. A
payload past it raises :class:`PayloadTooLarge`, one that cannot be decoded :class:`PayloadError`;
the message says why in a few words, and the caller names the record.

This module reads no settings; its only Scrapy imports are those decompression helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from scrapy.downloadermiddlewares.httpcompression import ACCEPTED_ENCODINGS
from scrapy.utils import _compression
from scrapy.utils.gz import gunzip
from warcio.bufferedreaders import ChunkedDataReader
from warcio.recordloader import ArcWarcRecord

CHUNK_SIZE = 65536
# The codings HttpCompressionMiddleware undoes (br and zstd only when their packages are
# installed, so with an older Scrapy they may be missing) and x-gzip, its alias of gzip.
_DECODERS: dict[str, Callable[..., bytes] | None] = {
    "gzip": gunzip,
    "x-gzip": gunzip,
    "deflate": getattr(_compression, "_inflate", None),
    "br": getattr(_compression, "_unbrotli", None),
    "zstd": getattr(_compression, "_unzstd", None),
}
DECODERS: dict[str, Callable[..., bytes]] = {
    name: decoder for name, decoder in _DECODERS.items()
    if decoder is not None and (name == "x-gzip" or name.encode() in ACCEPTED_ENCODINGS)
}


class PayloadError(ValueError):
    """An archived payload that cannot be read back as the page; the message says why."""


class PayloadTooLarge(PayloadError):
    """An archived payload larger than the cap, archived or once its encoding is undone."""


def _too_large(max_size: int, what: str) -> PayloadTooLarge:
    return PayloadTooLarge(f"{what} past DOWNLOAD_MAXSIZE ({max_size} bytes)")


def content_encodings(headers: Iterable[tuple[str, str]]) -> list[str]:
    """The ``Content-Encoding`` codings of HTTP headers in the order applied, lower case.

    Repeated headers and comma-separated lists both count; ``identity`` is no coding.
    """
    codings = []
    for name, value in headers:
        if name.lower() == "content-encoding":
            codings += [coding.strip().lower() for coding in value.split(",")]
    return [coding for coding in codings if coding and coding != "identity"]


def raw_payload(record: ArcWarcRecord, max_size: int) -> bytes:
    """The record's payload as received: chunking undone, content coding kept.

    Raises `PayloadTooLarge` as soon as more than ``max_size`` bytes (0: no cap) were read.
    """
    stream = record.raw_stream
    headers = record.http_headers
    if headers is not None and "chunked" in (
            headers.get_header("Transfer-Encoding") or "").lower():
        stream = ChunkedDataReader(stream)
    chunks = []
    size = 0
    while chunk := stream.read(CHUNK_SIZE):
        size += len(chunk)
        if max_size and size > max_size:
            raise _too_large(max_size, "archived body runs")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_content(body: bytes, codings: list[str], max_size: int) -> bytes:
    """Undo ``codings`` (in the order they were applied) on ``body``, the output capped.

    Raises `PayloadTooLarge` when a decoded body would pass ``max_size`` (0: no cap), and
    `PayloadError` for a coding the crawl does not accept or a body that is not so encoded.
    """
    for coding in reversed(codings):
        decoder = DECODERS.get(coding)
        if decoder is None:
            raise PayloadError(f"unsupported Content-Encoding {coding!r}")
        try:
            body = decoder(body, max_size=max_size)
        except _compression._DecompressionMaxSizeExceeded:
            raise _too_large(max_size, f"{coding} body inflates") from None
        except Exception as error:  # zlib, brotli and zstd each raise their own error types
            raise PayloadError(f"broken {coding} body: {error}") from error
    return body


def record_payload(record: ArcWarcRecord, max_size: int) -> bytes:
    """A response record's body as the page: transfer and content codings undone, capped."""
    headers = record.http_headers.headers if record.http_headers is not None else []
    return decode_content(raw_payload(record, max_size), content_encodings(headers), max_size)
