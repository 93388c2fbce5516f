"""Rotating WARC/1.1 writer for HTTP exchanges, built on warcio.

:class:`WarcWriter` appends request/response pairs to gzip-compressed WARC/1.1
files (one gzip member per record, so any record can be read on its own from its
offset).  Files are named ``<prefix>-<timestamp>-<serial>-<host>.warc.gz`` and carry
an extra ``.open`` suffix while being written; when a file reaches ``max_size``
(:data:`DEFAULT_MAX_SIZE`, 1 GB, unless told) or the writer is closed it is flushed,
fsynced and renamed to its final name.  Every file starts with a ``warcinfo`` record.

Each exchange becomes a ``response`` record holding the body as received (still
content-encoded) and the headers as Scrapy hands them over: values byte for byte and
repeats kept, names title-cased and grouped by name, the standard reason phrase (see
docs/archivist.md for exactly what is kept), followed by a ``request``
record that names the response in ``WARC-Concurrent-To``, both with sha1/base32
block and payload digests.  The records' bytes are made by :mod:`storage.warc_records`
(one function per record kind); this module decides which records to write, and where.
:meth:`WarcWriter.write` returns a :class:`WarcPointer` to the response
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
level 6 for a few percent of size, so the writer compresses each serialised record
itself (:func:`storage.warc_records.gzip_member`).  The open file holds an exclusive
``flock`` (:mod:`storage.files`) so crash recovery (:mod:`storage.warc_recovery`) can
tell a live file from an orphan.

This module reads no settings and has no Scrapy imports: the crawler's
``WarcCaptureMiddleware`` maps settings onto the constructor arguments.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.files import fsync_directory, try_lock
from storage.warc_digests import OriginalCapture, PendingOriginals
from storage.warc_records import (
    CONFORMS_TO,
    DEFAULT_COMPRESSION_LEVEL,
    NOT_MODIFIED_PROFILE,
    REVISIT_PROFILE,
    SOFTWARE,
    HttpExchange,
    check_compression_level,
    gzip_member,
    metadata_record,
    new_record_id,
    payload_digest,
    request_record,
    response_record,
    revisit_record,
    utc,
    warc_date,
    warcinfo_record,
)

if TYPE_CHECKING:
    from storage.warc_digests import DigestIndex

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
EXTENSION = ".warc.gz"
#: Rotate a file once it holds this many bytes (``WARC_MAX_SIZE``'s default).
DEFAULT_MAX_SIZE = 1_000_000_000

_HOST_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
_PREFIX_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


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


def _sanitise(value: str, pattern: re.Pattern[str], fallback: str) -> str:
    cleaned = pattern.sub("-", value).strip("-.")
    return cleaned or fallback


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
        max_size: int = DEFAULT_MAX_SIZE,
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
        self.compression_level = check_compression_level(compression_level)
        self.digest_index = digest_index
        # Digests of payloads archived in the open file: not yet durable, so not yet indexed.
        self._pending_digests = PendingOriginals()
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
        self._new_record_id = record_id_factory or new_record_id
        self._serial = 0
        # Every record is compressed at our level and appended to our own file handle in one
        # write, so a failed write can be cut off.
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

    def write(
        self, exchange: HttpExchange, confirms: OriginalCapture | None = None
    ) -> WarcPointer:
        """Write a ``response`` record, then its ``request`` record, and point at the response.

        The response is a ``revisit`` when its payload was archived before, or when it is
        a ``304`` and ``confirms`` is the capture the conditional request revalidated
        (server-not-modified profile, that capture's payload digest), so replay tools show
        that capture's page.  The pair always lands in one file; the file is rotated
        afterwards once it reaches ``max_size``, so a single oversized exchange makes a
        single oversized file.
        """
        self._ensure_open()
        date = warc_date(self._clock())
        response_id = self._new_record_id()
        digest = payload_digest(exchange.body)
        original, profile = self._original(exchange, digest, confirms)
        ids = {"record_id": response_id, "date": date, "warcinfo_id": self._warcinfo_id}
        if original is None:
            response = response_record(exchange, digest, **ids)
        else:
            response = revisit_record(exchange, original, profile, **ids)
            digest = original.digest
        request = request_record(
            exchange, record_id=self._new_record_id(), date=date,
            warcinfo_id=self._warcinfo_id, concurrent_to=response_id,
        )
        response_bytes = gzip_member(response, self.compression_level)
        offset = self._append(response_bytes + gzip_member(request, self.compression_level))
        self.records_written += 2
        pointer = WarcPointer(
            filename=self._final_name, record_id=response_id, offset=offset,
            length=len(response_bytes), payload_digest=digest, target_uri=exchange.url,
            record_type="response" if original is None else "revisit",
            refers_to=None if original is None else original.record_id,
            date=date, original=None if original is None else original.location(),
        )
        if original is not None:
            self.revisits_written += 1
        elif self.digest_index is not None and exchange.may_be_original:
            self._pending_digests.add(OriginalCapture(
                digest, response_id, exchange.url, date, pointer.filename, offset, pointer.length
            ))
        self._rotate_if_full()
        return pointer

    def write_exchange(
        self, *, confirms: OriginalCapture | None = None, **exchange: Any
    ) -> WarcPointer:
        """:meth:`write` for an exchange given as keywords (the fields of `HttpExchange`)."""
        return self.write(HttpExchange(**exchange), confirms)

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
        record_id = self._new_record_id()
        record = metadata_record(
            url, fields, record_id=record_id, date=warc_date(self._clock()),
            warcinfo_id=self._warcinfo_id, concurrent_to=concurrent_to,
        )
        self._append(gzip_member(record, self.compression_level))
        self.records_written += 1
        self._rotate_if_full()
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

    def _original(
        self, exchange: HttpExchange, digest: str, confirms: OriginalCapture | None
    ) -> tuple[OriginalCapture | None, str]:
        """The capture the response revisits and the revisit profile, or ``(None, "")``."""
        if exchange.status == 304 and confirms is not None:
            # The 304 holds no payload: the one it confirms is the original's.
            return confirms, NOT_MODIFIED_PROFILE
        if self.digest_index is not None and exchange.may_be_original:
            original = self._pending_digests.get(digest) or self.digest_index.lookup(digest)
            if original is not None:
                return original, REVISIT_PROFILE
        return None, ""

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
            self._pending_digests.clear()

    def _ensure_open(self) -> None:
        if self._file is not None:
            return
        opened_at = utc(self._clock())
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
        # Held until close (or the process dies): recovery skips locked files.
        if not try_lock(handle.fileno()):
            handle.close()
            raise BlockingIOError(errno.EAGAIN, f"{open_path} is locked by another process")
        self._file = handle
        self._open_path = open_path
        self._final_name = name
        self._serial += 1
        self._warcinfo_id = self._new_record_id()
        warcinfo = warcinfo_record(
            name, self._warcinfo_fields, record_id=self._warcinfo_id, date=warc_date(opened_at)
        )
        try:
            self._append(gzip_member(warcinfo, self.compression_level))
        except BaseException:
            if self._file is not None:
                self._file.close()
            self._file = None
            self._open_path = None
            open_path.unlink(missing_ok=True)
            raise
        self.records_written += 1

    def _rotate_if_full(self) -> None:
        # _append leaves the file position at the end of what it wrote.
        if self._file is not None and self._file.tell() >= self.max_size:
            self._close_current()

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
        fsync_directory(self.directory)
        self.files_closed.append(final_path)
        if self.digest_index is not None:
            # Only now is every original in this file durable under its final name.
            self._pending_digests.move_to(self.digest_index)
