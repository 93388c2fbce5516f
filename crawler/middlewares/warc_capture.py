"""Archive every HTTP exchange into rotating WARC files, before anything decodes it.

``WarcCaptureMiddleware`` is a downloader middleware that writes each response, and
the request that fetched it, with :class:`storage.warc.WarcWriter`.  It must sit
above every built-in downloader middleware (``950``; HttpCacheMiddleware is the
highest built-in at 900) so that on the way back its ``process_response`` runs
first and sees the body as received (still gzip-compressed, before
HttpCompressionMiddleware at 590) and every redirect hop and retried error (before
RedirectMiddleware and RetryMiddleware), and so that the request it archives
carries the headers the other middlewares added (User-Agent, Accept-Encoding,
Cookie)::

    DOWNLOADER_MIDDLEWARES = {
        "crawler.middlewares.warc_capture.WarcCaptureMiddleware": 950,
    }

A pointer to the response record (``storage.warc.WarcPointer.as_dict()``) is stored
in ``request.meta["warc"]``, so callbacks read ``response.meta["warc"]``.  A conditional
request carries the pointer of the capture it revalidates in ``meta["warc_confirms"]``:
a ``304`` answer is then archived as a server-not-modified ``revisit`` of that capture.  A request
opts out with ``meta={"dont_archive": True}``.  Responses served from Scrapy's HTTP
cache (flag ``cached``) and non-HTTP schemes are not captures and are skipped.

Settings:

* ``WARC_ENABLED`` - archive responses (default ``True``; ``False`` disables the
  middleware).
* ``ARCHIVE_DIR`` - root of the archive (default ``"archive"``).
* ``WARC_DIR`` - where WARC files go (default ``<ARCHIVE_DIR>/warc``).
* ``WARC_PREFIX`` - file name prefix (default: the spider's name, else ``"archive"``).
* ``WARC_MAX_SIZE`` - rotate a file once it reaches this many bytes (default
  ``storage.warc.DEFAULT_MAX_SIZE``, 1 GB).
* ``WARC_OPERATOR`` - who runs the crawl, recorded in ``warcinfo`` (optional).
* ``WARC_IS_PART_OF`` - the collection, recorded in ``warcinfo`` as ``isPartOf``
  (default: the spider's name).
* ``WARC_COMPRESSION_LEVEL`` - zlib level of each record's gzip member, 0-9
  (default ``6``; warcio's own writer always uses 9).
* ``WARC_DEDUP`` - write a ``revisit`` record for a payload archived before, in this
  crawl or an earlier one (default ``True``).
* ``WARC_DIGEST_DB`` - the payload-digest index for ``WARC_DEDUP`` (default
  ``<ARCHIVE_DIR>/warc-digests.sqlite3``).
* ``REDIS_URL`` - many workers on one crawl (``crawler/frontier.py``): the digest index is the
  Redis hash ``WARC_DIGEST_REDIS_KEY`` (default ``warc:digests``), shared by every worker.
* ``WORKER_ID`` - set (by ``REDIS_URL``'s add-on, or by hand): this worker's files are named
  ``<prefix>-<timestamp>-<serial>-<worker id>.warc.gz`` and their ``warcinfo`` says ``worker``.
* ``USER_AGENT`` - recorded in ``warcinfo`` as ``http-header-user-agent``.
* ``ROBOTSTXT_OBEY`` - recorded in ``warcinfo`` as ``robots: obey`` or ``ignore``.

When the spider opens, files left ``.open`` in the WARC directory by a crashed crawl
are recovered (:mod:`storage.warc_recovery`): every readable record is kept under the
file's final name, every damaged or partial span is moved to ``quarantine/`` and
listed in ``recovery-report.jsonl``, and a file with no readable WARC record is left
as it is; a warning names each file.

A spider adds a ``metadata`` record about a response by sending the
:data:`WARC_METADATA` signal::

    self.crawler.signals.send_catch_log(
        WARC_METADATA, response=response, fields={"outlink": links, "article-id": url}
    )

Stats: ``warc/responses``, ``warc/revisits``, ``warc/metadata``, ``warc/records``
(every record but ``warcinfo``), ``warc/bytes`` (compressed bytes on disk),
``warc/files``, ``warc/skipped`` and ``warc/skipped/<reason>``, ``warc/errors``,
``warc/recovered_files``, ``warc/recovered_records``, ``warc/recovered_damaged_spans``,
``warc/recovered_quarantined_bytes``, ``warc/recovery_untouched`` (files left as they
were), ``warc/recovery_errors``.  A failed write is logged and counted but never stops
the crawl.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.paths import ArchivePaths
from storage.warc import DEFAULT_MAX_SIZE, WarcWriter
from storage.warc_digests import (
    DEFAULT_REDIS_KEY,
    DigestIndex,
    OriginalCapture,
    RedisDigestIndex,
    originals_in,
)
from storage.warc_records import DEFAULT_COMPRESSION_LEVEL, check_compression_level
from storage.warc_recovery import recover_directory

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Headers, Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

ARCHIVED_SCHEMES = frozenset({"http", "https"})

# Signal: send with ``response=`` and ``fields=`` (name -> value or list of values) to
# write a metadata record about that response's capture.
WARC_METADATA = object()

# Response flags that mean the body stopped short of what the server sent.
TRUNCATION_FLAGS = {"dataloss": "disconnect", "download_stopped": "unspecified"}


def flatten_headers(headers: Headers) -> list[tuple[str, str]]:
    """Return Scrapy headers as ``(name, value)`` pairs, one pair per value.

    Bytes are decoded as latin-1 so that the writer can store them back unchanged.
    """
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


def http_version(protocol: str | None) -> str:
    """Return the HTTP version for the status line from ``Response.protocol``."""
    if not protocol:
        return "HTTP/1.1"
    if protocol.lower() == "h2":
        # Scrapy's HTTP/2 handler reports the ALPN id; the status line wants a version.
        return "HTTP/2"
    return protocol


def confirmed_capture(request: Request) -> OriginalCapture | None:
    """The capture a conditional request revalidates (``meta["warc_confirms"]``), if any.

    The spider sets it to the pointer of the URL's last archived page (`WarcPointer.as_dict`);
    for a revisit, the bytes are in the capture it refers to.
    """
    pointer = request.meta.get("warc_confirms")
    if not pointer:
        return None
    where = pointer.get("original") or pointer
    if not where.get("record_id") or not pointer.get("payload_digest"):
        return None
    return OriginalCapture(
        digest=pointer["payload_digest"], record_id=where["record_id"],
        target_uri=where.get("target_uri") or pointer.get("target_uri") or request.url,
        warc_date=where.get("date") or "", filename=where["filename"],
        offset=where.get("offset"), length=where.get("length"),
    )


def reason_phrase(status: int) -> str:
    """Return the standard reason phrase for ``status`` (Scrapy drops the server's)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class WarcCaptureMiddleware:
    """Write each request/response pair to WARC and point the request at the record."""

    def __init__(
        self,
        stats: StatsCollector,
        *,
        directory: str | Path,
        prefix: str = "archive",
        max_size: int = DEFAULT_MAX_SIZE,
        warcinfo: dict[str, str] | None = None,
        compression_level: int = DEFAULT_COMPRESSION_LEVEL,
        digest_db: str | Path | None = None,
        digest_redis: tuple[str, str] | None = None,
        hostname: str | None = None,
    ) -> None:
        """Keep the writer's configuration; the writer is created on the first response.

        ``digest_db`` (a path) or ``digest_redis`` (a Redis URL and hash key) switches
        deduplication on. ``hostname`` ends the files' names (default: this machine's).
        """
        check_compression_level(compression_level, "WARC_COMPRESSION_LEVEL")
        self.stats = stats
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = max_size
        self.warcinfo = dict(warcinfo or {})
        self.compression_level = compression_level
        self.digest_db = Path(digest_db) if digest_db else None
        self.digest_redis = digest_redis
        self.hostname = hostname
        self._digest_index: DigestIndex | RedisDigestIndex | None = None
        self._writer: WarcWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureMiddleware:
        """Build the middleware from settings and close it when the spider closes."""
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC capture disabled by WARC_ENABLED")
        paths = ArchivePaths.from_settings(settings)
        spider_name = getattr(crawler.spider, "name", None)
        prefix = settings.get("WARC_PREFIX") or spider_name or "archive"
        started = datetime.now(timezone.utc)
        warcinfo = {
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "isPartOf": str(settings.get("WARC_IS_PART_OF") or spider_name or "archive"),
            # One id per crawl run, shared by all its files (Heritrix's job + launch).
            "crawl-id": f"{prefix}-{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
        }
        if operator := settings.get("WARC_OPERATOR"):
            warcinfo["operator"] = str(operator)
        if user_agent := settings.get("USER_AGENT"):
            warcinfo["http-header-user-agent"] = str(user_agent)
        if worker := settings.get("WORKER_ID"):
            # Many workers may write one directory: each its own files, named by the worker.
            warcinfo["worker"] = str(worker)
            warcinfo["hostname"] = socket.gethostname()
        digest_db = digest_redis = None
        if settings.getbool("WARC_DEDUP", True):
            if redis_url := settings.get("REDIS_URL"):
                digest_redis = (redis_url,
                                settings.get("WARC_DIGEST_REDIS_KEY") or DEFAULT_REDIS_KEY)
            else:
                digest_db = paths.digest_db
        middleware = cls(
            crawler.stats,
            directory=paths.warc_dir,
            prefix=prefix,
            max_size=settings.getint("WARC_MAX_SIZE", DEFAULT_MAX_SIZE),
            warcinfo=warcinfo,
            compression_level=settings.getint(
                "WARC_COMPRESSION_LEVEL", DEFAULT_COMPRESSION_LEVEL
            ),
            digest_db=digest_db,
            digest_redis=digest_redis,
            hostname=str(worker) if worker else None,
        )
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        # spider_closed fires after the downloader has drained (every response has
        # been through process_response) and before the stats are dumped.
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(middleware.write_metadata, signal=WARC_METADATA)
        return middleware

    def spider_opened(self) -> None:
        """Recover files a crashed crawl left ``.open``, before this crawl writes any."""
        self.recover()

    def recover(self) -> None:
        """Recover orphaned ``.open`` files in the WARC directory and index them; count it."""
        try:
            recovered = recover_directory(self.directory)
        except OSError as error:
            self.stats.inc_value("warc/recovery_errors")
            logger.error("Could not recover WARC files in %s: %s", self.directory, error)
            return
        for result in recovered:
            if result.error is not None:
                self.stats.inc_value("warc/recovery_errors")
                continue
            if result.untouched_reason is not None:
                self.stats.inc_value("warc/recovery_untouched")
                continue
            if result.final_path is None:  # an empty file, removed
                continue
            self.stats.inc_value("warc/recovered_files")
            self.stats.inc_value("warc/recovered_records", result.records)
            self.stats.inc_value("warc/recovered_damaged_spans", len(result.damaged))
            self.stats.inc_value("warc/recovered_quarantined_bytes", result.quarantined_bytes)
            if self.deduplicates:
                # The crashed writer never indexed this file: its pages would be archived
                # in full again instead of as revisits.
                try:
                    index = self._open_digest_index()
                    try:
                        index.add_many(originals_in(result.final_path))
                    finally:
                        index.close()
                except Exception as error:
                    self.stats.inc_value("warc/recovery_errors")
                    logger.error("Could not index recovered %s: %s", result.final_path, error)

    def write_metadata(
        self,
        response: Response,
        fields: Mapping[str, str | Iterable[str] | None] | None = None,
    ) -> None:
        """Write a ``metadata`` record about the archived ``response`` (the WARC_METADATA signal).

        A list value becomes one line per item (``outlink`` per link); ``None`` is left out.
        The record gets ``fetchTimeMs`` (the download latency) when Scrapy measured it.
        """
        pointer = response.meta.get("warc") if response.request is not None else None
        if not pointer or pointer.get("target_uri") != response.url:
            # Not archived (opted out, cached, or the write failed): nothing to describe.
            self.stats.inc_value("warc/metadata_skipped")
            return
        lines: list[tuple[str, str]] = []
        if (latency := response.meta.get("download_latency")) is not None:
            lines.append(("fetchTimeMs", str(round(latency * 1000))))
        for name, value in (fields or {}).items():
            if value is None:
                continue
            values = [value] if isinstance(value, str) else list(value)
            lines.extend((name, str(item)) for item in values)
        try:
            self._get_writer().write_metadata(
                url=response.url, concurrent_to=pointer["record_id"], fields=lines
            )
        except Exception as error:
            self.stats.inc_value("warc/errors")
            logger.error(
                "Could not write the metadata record of %s: %s", response.url, error,
                exc_info=not isinstance(error, OSError),
            )
            return
        self.stats.inc_value("warc/metadata")
        self.stats.inc_value("warc/records")
        self._update_stats(self._get_writer())

    def process_response(self, request: Request, response: Response) -> Response:
        """Archive the exchange, store the record pointer in ``request.meta["warc"]``."""
        skip_reason = self._skip_reason(request, response)
        if skip_reason:
            # A pointer copied from an earlier redirect hop would describe another page.
            request.meta.pop("warc", None)
            self.stats.inc_value("warc/skipped")
            self.stats.inc_value(f"warc/skipped/{skip_reason}")
            logger.debug("Not archiving %s (%s)", response.url, skip_reason)
            return response
        try:
            writer = self._get_writer()
            closed_before = len(writer.files_closed)
            pointer = writer.write_exchange(
                url=response.url,
                method=request.method,
                request_headers=self._wire_request_headers(request),
                request_body=request.body,
                protocol=http_version(response.protocol),
                status=response.status,
                reason=reason_phrase(response.status),
                response_headers=flatten_headers(response.headers),
                body=response.body,
                ip_address=str(response.ip_address) if response.ip_address else None,
                truncated=self._truncation(response),
                confirms=confirmed_capture(request) if response.status == 304 else None,
            )
        except Exception as error:
            request.meta.pop("warc", None)
            self.stats.inc_value("warc/errors")
            # A full disk fails every write: one line each, a traceback only for surprises.
            logger.error(
                "Could not archive %s: %s",
                response.url,
                error,
                exc_info=not isinstance(error, OSError),
            )
            return response
        request.meta["warc"] = pointer.as_dict()
        self.stats.inc_value("warc/responses")
        if pointer.record_type == "revisit":
            self.stats.inc_value("warc/revisits")
        self.stats.inc_value("warc/records", 2)
        self._update_stats(writer)
        for path in writer.files_closed[closed_before:]:
            logger.info("Closed WARC file %s", path)
        return response

    def spider_closed(self) -> None:
        """Close the open WARC file so it loses its ``.open`` suffix."""
        writer = self._writer
        if writer is None:
            return
        closed_before = len(writer.files_closed)
        try:
            writer.close()
        except OSError as error:
            self.stats.inc_value("warc/errors")
            logger.error("Could not close WARC file %s: %s", writer.current_path, error)
        for path in writer.files_closed[closed_before:]:
            logger.info("Closed WARC file %s", path)
        self._update_stats(writer)
        if self._digest_index is not None:
            self._digest_index.close()
            self._digest_index = None

    def _get_writer(self) -> WarcWriter:
        if self._writer is None:
            if self.deduplicates:
                self._digest_index = self._open_digest_index()
                # An index from before originals carried their place: revisits point at bytes.
                if located := self._digest_index.locate_missing(self.directory):
                    logger.info("Located %d archived originals in %s", located, self.directory)
            self._writer = WarcWriter(
                self.directory,
                prefix=self.prefix,
                max_size=self.max_size,
                warcinfo=self.warcinfo,
                compression_level=self.compression_level,
                digest_index=self._digest_index,
                hostname=self.hostname,
            )
        return self._writer

    @property
    def deduplicates(self) -> bool:
        """Whether a payload archived before becomes a revisit (``WARC_DEDUP``)."""
        return self.digest_db is not None or self.digest_redis is not None

    def _open_digest_index(self) -> DigestIndex | RedisDigestIndex:
        if self.digest_redis is not None:
            return RedisDigestIndex(*self.digest_redis)
        assert self.digest_db is not None
        return DigestIndex(self.digest_db)

    def _update_stats(self, writer: WarcWriter) -> None:
        self.stats.set_value("warc/bytes", writer.bytes_written)
        self.stats.set_value("warc/files", writer.files_written)

    @staticmethod
    def _skip_reason(request: Request, response: Response) -> str | None:
        if request.meta.get("dont_archive"):
            return "dont_archive"
        if "cached" in response.flags:
            # Replayed from HttpCacheMiddleware: not fetched now, already archived then.
            return "cached"
        if urlsplit(response.url).scheme not in ARCHIVED_SCHEMES:
            return "scheme"
        return None

    @staticmethod
    def _wire_request_headers(request: Request) -> list[tuple[str, str]]:
        headers = flatten_headers(request.headers)
        names = {name.lower() for name, _ in headers}
        # Twisted's HTTP client adds these on the wire, outside request.headers.
        if "host" not in names:
            netloc = urlsplit(request.url).netloc.rpartition("@")[2]
            headers.insert(0, ("Host", netloc))
        if request.body and "content-length" not in names:
            headers.append(("Content-Length", str(len(request.body))))
        return headers

    @staticmethod
    def _truncation(response: Response) -> str | None:
        for flag, reason in TRUNCATION_FLAGS.items():
            if flag in response.flags:
                return reason
        return None
