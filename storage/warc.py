"""Rotating WARC/1.1 writer for HTTP exchanges, built on warcio.

:class:`WarcWriter` appends request/response pairs to gzip-compressed WARC/1.1
files (one gzip member per record, so any record can be read on its own from its
offset).  Files are named ``<prefix>-<timestamp>-<serial>-<host>.warc.gz`` and carry
an extra ``.open`` suffix while being written; when a file reaches ``max_size`` or
the writer is closed it is flushed, fsynced and renamed to its final name.  Every
file starts with a ``warcinfo`` record.

Each exchange becomes a ``response`` record holding the body as received (still
content-encoded) and the headers as Scrapy hands them over: values byte for byte and
repeats kept, names title-cased and grouped by name, the standard reason phrase (see
docs/archivist.md for exactly what is kept), followed by a ``request``
record that names the response in ``WARC-Concurrent-To``, both with sha1/base32
block and payload digests.  Response, request, revisit and metadata records are
serialised here, byte for byte as warcio would (the tests compare), because warcio's
header bookkeeping cost more than compressing a small page; warcio builds the
``warcinfo`` record, once per file.
:meth:`WarcWriter.write_exchange` returns a :class:`WarcPointer` to the response
record, which items carry so a parsed article always leads back to its capture.

Deduplication: given a :class:`~storage.warc_digests.DigestIndex`, a successful
(2xx, complete, non-empty) response whose payload digest was archived before is
written as a ``revisit`` record (WARC/1.1 identical-payload-digest profile, HTTP
headers only) with ``WARC-Refers-To``, ``WARC-Refers-To-Target-URI`` and
``WARC-Refers-To-Date`` naming the original.  A ``304 Not Modified`` answer to a
conditional request, given the capture it ``confirms``, is written the same way with the
server-not-modified profile (HTTP headers of the 304, the confirmed capture's payload
digest), as Heritrix does: replay tools resolve it to the page it confirms, where a
plain 304 response would replay as an empty page.  Within the open file the writer keeps
its own digests and hands them to the index only once the file is closed, fsynced
and renamed, so a revisit never refers to a record that a crash could lose.

:meth:`WarcWriter.write_metadata` adds a ``metadata`` record
(``application/warc-fields``) about a response, ``WARC-Concurrent-To`` it.

Compression: one gzip member per record at ``compression_level`` (zlib, 0-9).
warcio's own gzip wrapper always uses level 9, which costs about twice the time of
level 6 for a few percent of size, so the writer compresses the serialised record
itself, with a zlib window no larger than the record needs (:func:`gzip_member`: the
same bytes as a full window, at a fraction of the memory setup).  The open file
holds an exclusive ``flock`` so crash recovery (:mod:`storage.warc_recovery`) can
tell a live file from an orphan.

This module reads no settings and has no Scrapy imports: the crawler's
``WarcCaptureMiddleware`` maps settings onto the constructor arguments.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import socket
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from storage.warc_digests import OriginalCapture

if TYPE_CHECKING:
    from storage.warc_digests import DigestIndex

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; recovery then trusts the .open suffix alone.
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
OPEN_SUFFIX = ".open"
EXTENSION = ".warc.gz"
ORIGINAL_TRANSFER_ENCODING = "X-Archive-Orig-Transfer-Encoding"
CONFORMS_TO = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
DEFAULT_COMPRESSION_LEVEL = 6
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
RESPONSE_CONTENT_TYPE = "application/http; msgtype=response"
REQUEST_CONTENT_TYPE = "application/http; msgtype=request"

_HOST_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
_PREFIX_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


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


@dataclass(frozen=True)
class WarcPointer:
    """Where a response record lives: enough to read it back without an index.

    ``filename`` is the file's final name (without ``.open``), ``offset`` and
    ``length`` delimit the record's gzip member in that file; ``date`` is its
    ``WARC-Date``.  ``record_type`` is ``"response"``, or ``"revisit"`` when the
    payload was archived before (or the server answered ``304 Not Modified``); then
    ``refers_to`` is the ``WARC-Record-ID`` of the original response and
    ``original`` says where that response is (``filename``, ``record_id``,
    ``offset``, ``length``, ``date``, ``target_uri``): the payload in one step.
    """

    filename: str
    record_id: str
    offset: int
    length: int
    payload_digest: str
    target_uri: str
    record_type: str = "response"
    refers_to: str | None = None
    date: str | None = None
    original: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the pointer as a plain dict (for items and JSON)."""
        # dataclasses.asdict deep-copies field by field: a tenth of the archiving time.
        return dict(self.__dict__)


class _RawHttpHeaders(StatusAndHeaders):
    """HTTP status line and headers serialised byte for byte.

    warcio percent-encodes non-ASCII header values; ours are latin-1 decoded bytes
    from the wire, so encoding them back as latin-1 restores exactly what was
    received.  Text that is not latin-1 (a caller passing real Unicode) is written
    as UTF-8, which is what servers that send such headers use.  The writer itself
    calls :func:`http_head_bytes`; this class hands warcio the same bytes (the tests
    build reference records with it).
    """

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        """Set ``headers_buff``; warcio calls this before writing the record."""
        self.headers_buff = self.to_block()

    def to_block(self) -> bytes:
        """Return the status line and headers as bytes, ending with the blank line."""
        return http_head_bytes(f"{self.protocol} {self.statusline}", self.headers)


def http_head_bytes(first_line: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """Return an HTTP start line and headers as bytes, ending with the blank line.

    Each line is latin-1 (the wire bytes, as decoded by the caller) or, when it
    holds text latin-1 cannot encode, UTF-8; see :class:`_RawHttpHeaders`.
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


def _sanitise(value: str, pattern: re.Pattern[str], fallback: str) -> str:
    cleaned = pattern.sub("-", value).strip("-.")
    return cleaned or fallback


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _warc_date(moment: datetime) -> str:
    # warcio expects a naive UTC datetime; WARC/1.1 allows microseconds.
    return datetime_to_iso_date(moment.replace(tzinfo=None), use_micros=True)


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


# The GET requests' body: its digest is the same every time.
_EMPTY_PAYLOAD_DIGEST = payload_digest(b"")


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


def _field_value(value: object) -> str:
    # A warc-fields value is one line: a newline in a title would start a bogus field.
    return " ".join(str(value).split())


_UUID_VERSION_AND_VARIANT_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_BITS = (0x4000 << 64) | (0x8000 << 48)


def _new_record_id() -> str:
    """Return ``<urn:uuid:...>`` with a random (version 4) UUID, as ``uuid.uuid4()`` makes it.

    The same 122 bits from ``os.urandom`` without building a ``uuid.UUID`` object, which
    cost twice as much (two ids per exchange).
    """
    number = int.from_bytes(os.urandom(16), "big")
    digits = f"{number & _UUID_VERSION_AND_VARIANT_MASK | _UUID4_BITS:032x}"
    return (
        f"<urn:uuid:{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}>"
    )


def _fsync_directory(directory: Path) -> None:
    # Makes a rename durable on POSIX; Windows cannot open directories.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class WarcWriter:
    """Append request/response pairs to rotating, gzip-compressed WARC/1.1 files.

    Not thread-safe: it is meant to be driven from Scrapy's reactor thread.
    ``clock`` returns the current time (UTC, or naive meaning UTC) and
    ``record_id_factory`` returns a complete ``WARC-Record-ID`` value such as
    ``<urn:uuid:...>``; both exist so tests can produce exact bytes.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        prefix: str = "archive",
        max_size: int = 1_000_000_000,
        hostname: str | None = None,
        warcinfo: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
        record_id_factory: Callable[[], str] | None = None,
        compression_level: int = DEFAULT_COMPRESSION_LEVEL,
        digest_index: DigestIndex | None = None,
    ) -> None:
        """Prepare a writer for ``directory`` (created if missing); no file is opened yet.

        ``compression_level`` is zlib's (0 stores, 1 is fastest, 9 smallest).
        ``digest_index`` switches deduplication on; the caller owns and closes it.
        """
        if max_size <= 0:
            raise ValueError(f"max_size must be a positive number of bytes, got {max_size}")
        if not 0 <= compression_level <= 9:
            raise ValueError(f"compression_level must be 0-9 (zlib), got {compression_level}")
        self.compression_level = compression_level
        self.digest_index = digest_index
        # Digests of payloads archived in the open file: not yet durable, so not yet indexed.
        self._pending_digests: dict[str, OriginalCapture] = {}
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix = _sanitise(prefix, _PREFIX_UNSAFE, "archive")
        self.max_size = max_size
        self.hostname = _sanitise(hostname or socket.gethostname(), _HOST_UNSAFE, "localhost")
        self._warcinfo_fields: dict[str, str] = {
            "software": SOFTWARE,
            "format": "WARC File Format 1.1",
            "conformsTo": CONFORMS_TO,
            "hostname": self.hostname,
            "robots": "obey",
            **(warcinfo or {}),
        }
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._new_record_id = record_id_factory or _new_record_id
        # Builds the warcinfo record; the others are serialised by this module.  Every
        # record is compressed here at our level and appended to our own file handle in
        # one write, so a failed write can be cut off.
        self._builder = WARCWriter(None, gzip=False, warc_version=WARC_VERSION)
        self._serial = 0
        self._file: io.FileIO | None = None
        self._open_path: Path | None = None
        self._final_name = ""
        self._warcinfo_id = ""
        self.records_written = 0
        self.revisits_written = 0
        self.bytes_written = 0
        self.files_closed: list[Path] = []

    @property
    def current_path(self) -> Path | None:
        """Path of the file being written (still ending in ``.open``), if any."""
        return self._open_path

    @property
    def files_written(self) -> int:
        """Number of files created so far, the open one included."""
        return len(self.files_closed) + (1 if self._file is not None else 0)

    def write_exchange(
        self,
        *,
        url: str,
        method: str,
        request_headers: Sequence[tuple[str, str]],
        request_body: bytes,
        protocol: str,
        status: int,
        reason: str,
        response_headers: Sequence[tuple[str, str]],
        body: bytes,
        ip_address: str | None = None,
        truncated: str | None = None,
        confirms: OriginalCapture | None = None,
    ) -> WarcPointer:
        """Write a ``response`` record, then its ``request`` record, and point at the response.

        Header values are expected as latin-1 decoded bytes so they are stored
        exactly as received.  ``body`` is the raw message body (still
        content-encoded).  ``truncated`` becomes ``WARC-Truncated`` (e.g.
        ``"disconnect"``) when the body is known to be incomplete.  ``confirms`` is the
        capture a conditional request revalidated: a ``304`` answer then becomes a
        ``revisit`` record (server-not-modified profile) referring to it, with its
        payload digest, so replay tools show that capture's page.  The pair always
        lands in one file; the file is rotated afterwards once it reaches
        ``max_size``, so a single oversized exchange makes a single oversized file.
        """
        self._ensure_open()
        assert self._file is not None
        protocol = protocol or "HTTP/1.1"
        date = _warc_date(_utc(self._clock()))
        response_id = self._new_record_id()
        digest = payload_digest(body)
        original = None
        # Only complete successful payloads: an error page or a cut body is no original.
        dedup = self.digest_index is not None and 200 <= status < 300 and bool(body)
        dedup = dedup and not truncated
        if dedup:
            original = self._pending_digests.get(digest) or self.digest_index.lookup(digest)
        not_modified = status == 304 and confirms is not None
        if not_modified:
            original = confirms
            # The 304 holds no payload: the one it confirms is the original's.
            digest = confirms.digest

        response_warc_headers = {
            "WARC-Type": "revisit" if original else "response",
            "WARC-Record-ID": response_id,
            "WARC-Date": date,
            "WARC-Target-URI": url,
        }
        if ip_address:
            response_warc_headers["WARC-IP-Address"] = ip_address
        if truncated:
            response_warc_headers["WARC-Truncated"] = truncated
        response_warc_headers["WARC-Warcinfo-ID"] = self._warcinfo_id
        http_block = http_head_bytes(
            f"{protocol} {status} {reason}", self._archived_response_headers(response_headers)
        )
        # Serialised here, byte for byte as warcio would (the tests compare), without its
        # per-header bookkeeping, which cost more than level-6 zlib on small pages.
        if original:
            response_warc_headers["WARC-Refers-To"] = original.record_id
            # warcio's order for a revisit: profile, original, then the digest.
            response_warc_headers["WARC-Profile"] = (
                NOT_MODIFIED_PROFILE if not_modified else REVISIT_PROFILE
            )
            response_warc_headers["WARC-Refers-To-Target-URI"] = original.target_uri
            if original.warc_date:
                response_warc_headers["WARC-Refers-To-Date"] = original.warc_date
            response_warc_headers["WARC-Payload-Digest"] = digest
            # The block is the HTTP headers alone; the payload is the original's.
            response_record = record_bytes(
                response_warc_headers.items(), http_block, b"", RESPONSE_CONTENT_TYPE
            )
        else:
            response_warc_headers["WARC-Payload-Digest"] = digest
            response_record = record_bytes(
                response_warc_headers.items(), http_block, body, RESPONSE_CONTENT_TYPE
            )
        response_bytes = gzip_member(response_record, self.compression_level)
        request_http = http_head_bytes(
            f"{method} {_request_target(url)} {protocol}", request_headers
        )
        request_bytes = gzip_member(
            record_bytes(
                [
                    ("WARC-Type", "request"),
                    ("WARC-Record-ID", self._new_record_id()),
                    ("WARC-Date", date),
                    ("WARC-Target-URI", url),
                    ("WARC-Warcinfo-ID", self._warcinfo_id),
                    ("WARC-Concurrent-To", response_id),
                    (
                        "WARC-Payload-Digest",
                        payload_digest(request_body) if request_body else _EMPTY_PAYLOAD_DIGEST,
                    ),
                ],
                request_http, request_body, REQUEST_CONTENT_TYPE,
            ),
            self.compression_level,
        )
        pair = response_bytes + request_bytes
        offset = self._append(pair)
        self.records_written += 2
        if original:
            self.revisits_written += 1
        elif dedup:
            self._pending_digests[digest] = OriginalCapture(
                digest, response_id, url, date, self._final_name, offset, len(response_bytes)
            )
        pointer = WarcPointer(
            filename=self._final_name,
            record_id=response_id,
            offset=offset,
            length=len(response_bytes),
            payload_digest=digest,
            target_uri=url,
            record_type="revisit" if original else "response",
            refers_to=original.record_id if original else None,
            date=date,
            original=original.location() if original else None,
        )
        # _append leaves the file position at the end of what it wrote.
        if offset + len(pair) >= self.max_size:
            self._close_current()
        return pointer

    def write_metadata(
        self,
        *,
        url: str,
        concurrent_to: str,
        fields: Sequence[tuple[str, object]],
    ) -> str:
        """Write a ``metadata`` record about the capture ``concurrent_to``; return its id.

        ``fields`` become ``application/warc-fields`` lines (``name: value``, UTF-8),
        in order, repeated names allowed (Heritrix writes one ``outlink`` per link).
        """
        self._ensure_open()
        block = "".join(
            f"{_field_value(name)}: {_field_value(value)}\r\n" for name, value in fields
        ).encode("utf-8")
        record_id = self._new_record_id()
        # No HTTP message: the block is the payload, so one digest serves as both.
        digest = payload_digest(block)
        record = record_bytes(
            [
                ("WARC-Type", "metadata"),
                ("WARC-Record-ID", record_id),
                ("WARC-Date", _warc_date(_utc(self._clock()))),
                ("WARC-Target-URI", url),
                ("WARC-Warcinfo-ID", self._warcinfo_id),
                ("WARC-Concurrent-To", concurrent_to),
                ("WARC-Payload-Digest", digest),
            ],
            b"", block, "application/warc-fields", block_digest=digest,
        )
        self._append(gzip_member(record, self.compression_level))
        self.records_written += 1
        assert self._file is not None
        if self._file.tell() >= self.max_size:
            self._close_current()
        return record_id

    def close(self) -> None:
        """Flush, fsync and rename the open file, if any; safe to call repeatedly.

        Writing again afterwards opens a new file with the next serial number.
        """
        if self._file is not None:
            self._close_current()

    def __enter__(self) -> WarcWriter:
        """Use the writer as a context manager that closes it on exit."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the writer."""
        self.close()

    @staticmethod
    def _archived_response_headers(
        headers: Sequence[tuple[str, str]],
    ) -> list[tuple[str, str]]:
        # Scrapy's HTTP client removes the chunked transfer coding, so the stored
        # body is not chunked; a Transfer-Encoding header left as it was would make
        # readers try to de-chunk it.  Renaming keeps the information without lying.
        return [
            (ORIGINAL_TRANSFER_ENCODING if name.lower() == "transfer-encoding" else name, value)
            for name, value in headers
        ]

    def _serialise(self, record: ArcWarcRecord) -> bytes:
        buffer = io.BytesIO()
        self._builder.out = buffer
        try:
            self._builder.write_record(record)
        finally:
            self._builder.out = None
        return gzip_member(buffer.getvalue(), self.compression_level)

    def _append(self, data: bytes) -> int:
        """Write ``data`` at the end of the open file and return where it starts.

        On failure the file is cut back to its previous end so it stays a valid
        WARC; if even that fails, the file is abandoned (left with ``.open``) and
        the next write starts a new one.
        """
        assert self._file is not None
        start = self._file.tell()
        try:
            view = memoryview(data)
            while view:
                # Unbuffered FileIO may write less than asked (e.g. near a full disk).
                written = self._file.write(view)
                if not written:
                    raise OSError(f"no progress writing to {self._open_path}")
                view = view[written:]
        except BaseException:
            self._rewind(start)
            raise
        self.bytes_written += len(data)
        return start

    def _rewind(self, position: int) -> None:
        assert self._file is not None
        try:
            self._file.truncate(position)
            self._file.seek(position)
        except OSError:
            logger.error(
                "Could not cut %s back to %d bytes after a failed write; leaving it "
                "unfinished (with %s) and starting a new file",
                self._open_path,
                position,
                OPEN_SUFFIX,
            )
            self._file.close()
            self._file = None
            self._open_path = None
            # Its records may yet be cut by recovery: none of them may become an original.
            self._pending_digests = {}

    def _ensure_open(self) -> None:
        if self._file is not None:
            return
        opened_at = _utc(self._clock())
        name = (
            f"{self.prefix}-{opened_at:%Y%m%d%H%M%S%f}-{self._serial:05d}-{self.hostname}"
            f"{EXTENSION}"
        )
        final_path = self.directory / name
        open_path = self.directory / (name + OPEN_SUFFIX)
        if final_path.exists():
            raise FileExistsError(
                f"{final_path} already exists; give this writer another prefix or directory"
            )
        # "x" refuses to clobber a file another writer is still writing.
        handle = open(open_path, "xb", buffering=0)
        if fcntl is not None:
            # Held until close (or the process dies): recovery skips locked files.
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._file = handle
        self._open_path = open_path
        self._final_name = name
        self._serial += 1
        self._warcinfo_id = self._new_record_id()
        warcinfo = self._builder.create_warcinfo_record(name, self._warcinfo_fields)
        warcinfo.rec_headers.replace_header("WARC-Record-ID", self._warcinfo_id)
        warcinfo.rec_headers.replace_header("WARC-Date", _warc_date(opened_at))
        try:
            self._append(self._serialise(warcinfo))
        except BaseException:
            if self._file is not None:
                self._file.close()
            self._file = None
            self._open_path = None
            open_path.unlink(missing_ok=True)
            raise
        self.records_written += 1

    def _close_current(self) -> None:
        assert self._file is not None and self._open_path is not None
        handle, open_path = self._file, self._open_path
        self._file = None
        self._open_path = None
        try:
            os.fsync(handle.fileno())
        finally:
            handle.close()
        final_path = open_path.with_name(self._final_name)
        os.replace(open_path, final_path)
        _fsync_directory(self.directory)
        self.files_closed.append(final_path)
        pending, self._pending_digests = self._pending_digests, {}
        if self.digest_index is not None and pending:
            # Only now is every original in this file durable under its final name.
            self.digest_index.add_many(pending.values())
