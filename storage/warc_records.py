"""WARC/1.1 records as bytes: serialisation, digests, record ids and gzip members.

One function per record kind -- :func:`response_record`, :func:`revisit_record`,
:func:`request_record`, :func:`metadata_record`, :func:`warcinfo_record` -- returns the
uncompressed record; :func:`gzip_member` compresses it into one gzip member.
:class:`storage.warc.WarcWriter` decides which records to write and where; this module only
makes their bytes.

Response, request, revisit and metadata records are serialised here byte for byte as
warcio would (``tests/test_storage_warc.py`` compares), because warcio's header bookkeeping
cost more than compressing a small page; warcio builds the ``warcinfo`` record, once per
file.  HTTP headers are written back as received: values are latin-1 decoded wire bytes, so
they are encoded back as latin-1 (:func:`http_head_bytes`), where warcio would
percent-encode them.

Digests are ``sha1:<base32>`` (:func:`payload_digest`), record ids random version-4 UUID
URNs (:func:`new_record_id`), and a gzip member uses a zlib window no larger than its record
needs (same bytes, a fraction of the memory setup).

This module reads no settings and has no Scrapy imports.
"""

from __future__ import annotations

import hashlib
import io
import os
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

if TYPE_CHECKING:
    from storage.warc_digests import OriginalCapture

WARC_VERSION = "WARC/1.1"
CONFORMS_TO = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
RESPONSE_CONTENT_TYPE = "application/http; msgtype=response"
REQUEST_CONTENT_TYPE = "application/http; msgtype=request"
METADATA_CONTENT_TYPE = "application/warc-fields"
ORIGINAL_TRANSFER_ENCODING = "X-Archive-Orig-Transfer-Encoding"
DEFAULT_COMPRESSION_LEVEL = 6


def _distribution_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        # Running from a source checkout that was never pip-installed.
        return "unknown"


SOFTWARE = (
    f"provincial-news-archiver/{_distribution_version('provincial-news-archiver')}"
    f" (warcio/{_distribution_version('warcio')})"
)


def check_compression_level(level: int, name: str = "compression_level") -> int:
    """Return ``level`` if it is a zlib level (0 stores, 1 is fastest, 9 smallest), else raise.

    ``name`` is what the ``ValueError`` calls it (a setting's name, say).
    """
    if not 0 <= level <= 9:
        raise ValueError(f"{name} must be 0-9 (zlib), got {level}")
    return level


@dataclass(frozen=True)
class HttpExchange:
    """One HTTP request and the response to it, as the crawler saw them.

    Header values are latin-1 decoded bytes so they are stored exactly as received;
    ``body`` is the message body as received (still content-encoded).  ``protocol`` is the
    HTTP version of both start lines (``HTTP/1.1`` when empty).  ``truncated`` becomes
    ``WARC-Truncated`` (e.g. ``"disconnect"``) when the body is known to be incomplete.
    """

    url: str
    method: str
    request_headers: Sequence[tuple[str, str]]
    request_body: bytes
    protocol: str
    status: int
    reason: str
    response_headers: Sequence[tuple[str, str]]
    body: bytes
    ip_address: str | None = None
    truncated: str | None = None

    @property
    def http_version(self) -> str:
        """The HTTP version of the start lines."""
        return self.protocol or "HTTP/1.1"

    @property
    def may_be_original(self) -> bool:
        """Whether the response is a payload a later one may revisit: complete, 2xx, not empty.

        An error page or a cut body is no original.
        """
        return 200 <= self.status < 300 and bool(self.body) and not self.truncated


def http_head_bytes(first_line: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """Return an HTTP start line and headers as bytes, ending with the blank line.

    Each line is latin-1 (the wire bytes, as decoded by the caller) or, when it holds text
    latin-1 cannot encode (a caller passing real Unicode), UTF-8, which is what servers that
    send such headers use.
    """
    lines = [first_line, *[f"{name}: {value}" for name, value in headers]]
    try:
        # One encode for the whole block: the same bytes as line by line when all is latin-1.
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError:
        return b"".join([_header_line_bytes(line) for line in lines]) + b"\r\n"


def _header_line_bytes(line: str) -> bytes:
    try:
        return line.encode("latin-1") + b"\r\n"
    except UnicodeEncodeError:
        return line.encode("utf-8") + b"\r\n"


def utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def warc_date(moment: datetime) -> str:
    """Return ``moment`` as a ``WARC-Date`` (UTC, with microseconds as WARC/1.1 allows)."""
    # warcio expects a naive UTC datetime.
    return datetime_to_iso_date(utc(moment).replace(tzinfo=None), use_micros=True)


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return target


_B32_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# Maps a byte holding one 5-bit group to its base32 character.
_B32_TRANSLATION = bytes(_B32_ALPHABET[byte % 32] for byte in range(256))


def _low_bits_mask(slot_width: int, kept: int, slots: int) -> int:
    """Return a mask of the low ``kept`` bits of each of ``slots`` slots ``slot_width`` wide."""
    return sum(((1 << kept) - 1) << (slot * slot_width) for slot in range(slots))


# Spreading 160 bits into 32 bytes of 5 bits in five halving steps: base64.b32encode is
# pure Python and cost more than compressing a small page's request record.
_B32_SPREAD_STEPS = [
    (_low_bits_mask(2 * width, 5 * width // 8, 256 // (2 * width)), 3 * width // 8)
    for width in (128, 64, 32, 16, 8)
]


def sha1_base32(digest: bytes) -> str:
    """Return a 20-byte sha1 digest in base32 (32 characters, no padding needed)."""
    number = int.from_bytes(digest, "big")
    for low_halves, shift in _B32_SPREAD_STEPS:
        # Each slot's high half moves up into a slot of its own, half as wide.
        number = (number & low_halves) | ((number & ~low_halves) << shift)
    return number.to_bytes(32, "big").translate(_B32_TRANSLATION).decode("ascii")


def payload_digest(body: bytes) -> str:
    """Return ``sha1:<base32>`` of ``body``, the form of ``WARC-Payload-Digest``."""
    return "sha1:" + sha1_base32(hashlib.sha1(body).digest())


#: The digest of no bytes: a GET request's body, every time.
EMPTY_PAYLOAD_DIGEST = payload_digest(b"")

_UUID_VERSION_AND_VARIANT_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_BITS = (0x4000 << 64) | (0x8000 << 48)


def new_record_id() -> str:
    """Return ``<urn:uuid:...>`` with a random (version 4) UUID, as ``uuid.uuid4()`` makes it.

    The same 122 bits from ``os.urandom`` without building a ``uuid.UUID`` object, which
    cost twice as much (two ids per exchange).
    """
    number = int.from_bytes(os.urandom(16), "big")
    digits = f"{number & _UUID_VERSION_AND_VARIANT_MASK | _UUID4_BITS:032x}"
    return (
        f"<urn:uuid:{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}>"
    )


def record_bytes(
    warc_headers: Iterable[tuple[str, str]],
    http_block: bytes,
    payload: bytes,
    content_type: str,
    block_digest: str | None = None,
) -> bytes:
    """Serialise one uncompressed WARC record whose block is ``http_block`` + ``payload``.

    Adds ``WARC-Block-Digest``, ``Content-Type`` and ``Content-Length`` after
    ``warc_headers``, in the order warcio's writer uses.  ``block_digest``, when the
    caller has it already (``sha1:<base32>`` of the whole block), saves hashing it again.
    """
    if block_digest is None:
        digester = hashlib.sha1(http_block)
        digester.update(payload)
        block_digest = "sha1:" + sha1_base32(digester.digest())
    head = "".join([f"{name}: {value}\r\n" for name, value in warc_headers])
    head = (
        f"{WARC_VERSION}\r\n{head}"
        f"WARC-Block-Digest: {block_digest}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(http_block) + len(payload)}\r\n\r\n"
    )
    return b"".join((head.encode("utf-8"), http_block, payload, b"\r\n\r\n"))


def _leading_headers(
    warc_type: str,
    record_id: str,
    date: str,
    url: str,
    warcinfo_id: str,
    exchange: HttpExchange | None = None,
) -> list[tuple[str, str]]:
    """The headers every record starts with, in warcio's order.

    A response or revisit (given its ``exchange``) also names the server's address and
    whether its body was cut.
    """
    headers = [
        ("WARC-Type", warc_type),
        ("WARC-Record-ID", record_id),
        ("WARC-Date", date),
        ("WARC-Target-URI", url),
    ]
    if exchange is not None and exchange.ip_address:
        headers.append(("WARC-IP-Address", exchange.ip_address))
    if exchange is not None and exchange.truncated:
        headers.append(("WARC-Truncated", exchange.truncated))
    headers.append(("WARC-Warcinfo-ID", warcinfo_id))
    return headers


def _response_head(exchange: HttpExchange) -> bytes:
    # Scrapy's HTTP client removes the chunked transfer coding, so the stored body is not
    # chunked; a Transfer-Encoding header left as it was would make readers try to de-chunk
    # it.  Renaming keeps the information without lying.
    headers = [
        (ORIGINAL_TRANSFER_ENCODING if name.lower() == "transfer-encoding" else name, value)
        for name, value in exchange.response_headers
    ]
    status_line = f"{exchange.http_version} {exchange.status} {exchange.reason}"
    return http_head_bytes(status_line, headers)


def response_record(
    exchange: HttpExchange, digest: str, *, record_id: str, date: str, warcinfo_id: str
) -> bytes:
    """The ``response`` record of ``exchange``: HTTP headers and body; ``digest`` is the body's."""
    headers = _leading_headers("response", record_id, date, exchange.url, warcinfo_id, exchange)
    headers.append(("WARC-Payload-Digest", digest))
    return record_bytes(headers, _response_head(exchange), exchange.body, RESPONSE_CONTENT_TYPE)


def revisit_record(
    exchange: HttpExchange,
    original: OriginalCapture,
    profile: str,
    *,
    record_id: str,
    date: str,
    warcinfo_id: str,
) -> bytes:
    """The ``revisit`` record of ``exchange``, whose payload is ``original``'s.

    ``profile`` is :data:`REVISIT_PROFILE` (the same payload again) or
    :data:`NOT_MODIFIED_PROFILE` (a ``304`` confirming ``original``).  The block is the HTTP
    headers alone.
    """
    headers = _leading_headers("revisit", record_id, date, exchange.url, warcinfo_id, exchange)
    # warcio's order for a revisit: profile, original, then the digest.
    headers += [
        ("WARC-Refers-To", original.record_id),
        ("WARC-Profile", profile),
        ("WARC-Refers-To-Target-URI", original.target_uri),
    ]
    if original.warc_date:
        headers.append(("WARC-Refers-To-Date", original.warc_date))
    headers.append(("WARC-Payload-Digest", original.digest))
    return record_bytes(headers, _response_head(exchange), b"", RESPONSE_CONTENT_TYPE)


def request_record(
    exchange: HttpExchange, *, record_id: str, date: str, warcinfo_id: str, concurrent_to: str
) -> bytes:
    """The ``request`` record of ``exchange``, ``WARC-Concurrent-To`` its response record."""
    body = exchange.request_body
    headers = _leading_headers("request", record_id, date, exchange.url, warcinfo_id)
    headers += [
        ("WARC-Concurrent-To", concurrent_to),
        ("WARC-Payload-Digest", payload_digest(body) if body else EMPTY_PAYLOAD_DIGEST),
    ]
    start_line = f"{exchange.method} {_request_target(exchange.url)} {exchange.http_version}"
    head = http_head_bytes(start_line, exchange.request_headers)
    return record_bytes(headers, head, body, REQUEST_CONTENT_TYPE)


def _field_value(value: object) -> str:
    # A warc-fields value is one line: a newline in a title would start a bogus field.
    return " ".join(str(value).split())


def metadata_record(
    url: str,
    fields: Sequence[tuple[str, object]],
    *,
    record_id: str,
    date: str,
    warcinfo_id: str,
    concurrent_to: str,
) -> bytes:
    """A ``metadata`` record (``application/warc-fields``) about the capture ``concurrent_to``.

    ``fields`` become ``name: value`` lines (UTF-8), in order, repeated names allowed
    (Heritrix writes one ``outlink`` per link).
    """
    block = "".join(
        f"{_field_value(name)}: {_field_value(value)}\r\n" for name, value in fields
    ).encode("utf-8")
    # No HTTP message: the block is the payload, so one digest serves as both.
    digest = payload_digest(block)
    headers = _leading_headers("metadata", record_id, date, url, warcinfo_id)
    headers += [("WARC-Concurrent-To", concurrent_to), ("WARC-Payload-Digest", digest)]
    return record_bytes(headers, b"", block, METADATA_CONTENT_TYPE, block_digest=digest)


def warcinfo_record(
    filename: str, fields: Mapping[str, str], *, record_id: str, date: str
) -> bytes:
    """The ``warcinfo`` record that starts the file ``filename``, built by warcio."""
    buffer = io.BytesIO()
    builder = WARCWriter(buffer, gzip=False, warc_version=WARC_VERSION)
    warcinfo = builder.create_warcinfo_record(filename, dict(fields))
    warcinfo.rec_headers.replace_header("WARC-Record-ID", record_id)
    warcinfo.rec_headers.replace_header("WARC-Date", date)
    builder.write_record(warcinfo)
    return buffer.getvalue()


# zlib looks back at most 2**wbits - 262 bytes (MAX_DIST), so on data no longer than that a
# smaller window finds the very same matches and writes the very same bytes (the gzip header
# does not record the window); a test compares them.  What it saves is memory: a 32 KB
# window makes a compressor take 256 KB.  When the allocator hands that back to the system
# after each member (it did in a small process here), faulting the pages in again cost more
# than compressing a small record: about 50 us per member, against 15 us with a 1 KB window.
_MAX_LOOKBEHIND_MARGIN = 262
_MIN_WINDOW_BITS = 10


def gzip_member(data: bytes, level: int) -> bytes:
    """Compress ``data`` into one complete gzip member (gzip header and trailer).

    The output is exactly that of ``zlib.compressobj(level, zlib.DEFLATED, 31)``.
    """
    window_bits = (len(data) + _MAX_LOOKBEHIND_MARGIN - 1).bit_length()
    window_bits = min(zlib.MAX_WBITS, max(_MIN_WINDOW_BITS, window_bits))
    # 16 + window bits: a gzip wrapper instead of zlib's.
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + window_bits)
    return compressor.compress(data) + compressor.flush()
