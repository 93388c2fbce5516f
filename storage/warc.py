"""Rotating WARC/1.1 writer for HTTP exchanges, built on warcio.

:class:`WarcWriter` appends request/response pairs to gzip-compressed WARC/1.1
files (one gzip member per record, so any record can be read on its own from its
offset).  Files are named ``<prefix>-<timestamp>-<serial>-<host>.warc.gz`` and carry
an extra ``.open`` suffix while being written; when a file reaches ``max_size`` or
the writer is closed it is flushed, fsynced and renamed to its final name.  Every
file starts with a ``warcinfo`` record.

Each exchange becomes a ``response`` record holding the bytes as received (headers
in order with duplicates, body still content-encoded) followed by a ``request``
record that names the response in ``WARC-Concurrent-To``.  warcio computes the
sha1/base32 block and payload digests.  :meth:`WarcWriter.write_exchange` returns a
:class:`WarcPointer` to the response record, which items carry so a parsed article
always leads back to its capture.

This module reads no settings and has no Scrapy imports: the crawler's
``WarcCaptureMiddleware`` maps settings onto the constructor arguments.
"""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

logger = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
OPEN_SUFFIX = ".open"
EXTENSION = ".warc.gz"
ORIGINAL_TRANSFER_ENCODING = "X-Archive-Orig-Transfer-Encoding"

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
    ``length`` delimit the record's gzip member in that file.
    """

    filename: str
    record_id: str
    offset: int
    length: int
    payload_digest: str
    target_uri: str

    def as_dict(self) -> dict[str, Any]:
        """Return the pointer as a plain dict (for items and JSON)."""
        return asdict(self)


class _RawHttpHeaders(StatusAndHeaders):
    """HTTP status line and headers serialised byte for byte.

    warcio percent-encodes non-ASCII header values; ours are latin-1 decoded bytes
    from the wire, so encoding them back as latin-1 restores exactly what was
    received.  Text that is not latin-1 (a caller passing real Unicode) is written
    as UTF-8, which is what servers that send such headers use.
    """

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        """Set ``headers_buff``; warcio calls this before writing the record."""
        lines = [f"{self.protocol} {self.statusline}"]
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        self.headers_buff = b"".join(_header_line_bytes(line) for line in lines) + b"\r\n"


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


def _new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


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
    ) -> None:
        """Prepare a writer for ``directory`` (created if missing); no file is opened yet."""
        if max_size <= 0:
            raise ValueError(f"max_size must be a positive number of bytes, got {max_size}")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix = _sanitise(prefix, _PREFIX_UNSAFE, "archive")
        self.max_size = max_size
        self.hostname = _sanitise(hostname or socket.gethostname(), _HOST_UNSAFE, "localhost")
        self._warcinfo_fields: dict[str, str] = {
            "software": SOFTWARE,
            "format": "WARC File Format 1.1",
            "hostname": self.hostname,
            "robots": "obey",
            **(warcinfo or {}),
        }
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._new_record_id = record_id_factory or _new_record_id
        # Records are built and serialised by warcio, then appended to our own file
        # handle in one write, so a failed write can be cut off cleanly.
        self._builder = WARCWriter(None, gzip=True, warc_version=WARC_VERSION)
        self._serial = 0
        self._file: io.FileIO | None = None
        self._open_path: Path | None = None
        self._final_name = ""
        self._warcinfo_id = ""
        self.records_written = 0
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
    ) -> WarcPointer:
        """Write a ``response`` record, then its ``request`` record, and point at the response.

        Header values are expected as latin-1 decoded bytes so they are stored
        exactly as received.  ``body`` is the raw message body (still
        content-encoded).  ``truncated`` becomes ``WARC-Truncated`` (e.g.
        ``"disconnect"``) when the body is known to be incomplete.  The pair always
        lands in one file; the file is rotated afterwards once it reaches
        ``max_size``, so a single oversized exchange makes a single oversized file.
        """
        self._ensure_open()
        assert self._file is not None
        protocol = protocol or "HTTP/1.1"
        date = _warc_date(_utc(self._clock()))
        response_id = self._new_record_id()

        response_warc_headers = {
            "WARC-Type": "response",
            "WARC-Record-ID": response_id,
            "WARC-Date": date,
            "WARC-Target-URI": url,
        }
        if ip_address:
            response_warc_headers["WARC-IP-Address"] = ip_address
        if truncated:
            response_warc_headers["WARC-Truncated"] = truncated
        response_warc_headers["WARC-Warcinfo-ID"] = self._warcinfo_id
        response = self._builder.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            warc_headers_dict=response_warc_headers,
            http_headers=_RawHttpHeaders(
                f"{status} {reason}", self._archived_response_headers(response_headers), protocol
            ),
        )
        request = self._builder.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(request_body),
            length=len(request_body),
            warc_headers_dict={
                "WARC-Type": "request",
                "WARC-Record-ID": self._new_record_id(),
                "WARC-Date": date,
                "WARC-Target-URI": url,
                "WARC-Warcinfo-ID": self._warcinfo_id,
                "WARC-Concurrent-To": response_id,
            },
            http_headers=_RawHttpHeaders(
                f"{_request_target(url)} {protocol}", list(request_headers), method
            ),
        )

        response_bytes = self._serialise(response)
        offset = self._append(response_bytes + self._serialise(request))
        self.records_written += 2
        pointer = WarcPointer(
            filename=self._final_name,
            record_id=response_id,
            offset=offset,
            length=len(response_bytes),
            payload_digest=response.rec_headers.get_header("WARC-Payload-Digest"),
            target_uri=url,
        )
        if self._file.tell() >= self.max_size:
            self._close_current()
        return pointer

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
        return buffer.getvalue()

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
