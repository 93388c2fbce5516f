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
in ``request.meta["warc"]``, so callbacks read ``response.meta["warc"]``.  A request
opts out with ``meta={"dont_archive": True}``.  Responses served from Scrapy's HTTP
cache (flag ``cached``) and non-HTTP schemes are not captures and are skipped.

Settings:

* ``WARC_ENABLED`` - archive responses (default ``True``; ``False`` disables the
  middleware).
* ``ARCHIVE_DIR`` - root of the archive (default ``"archive"``).
* ``WARC_DIR`` - where WARC files go (default ``<ARCHIVE_DIR>/warc``).
* ``WARC_PREFIX`` - file name prefix (default: the spider's name, else ``"archive"``).
* ``WARC_MAX_SIZE`` - rotate a file once it reaches this many bytes (default
  ``1_000_000_000``).
* ``WARC_OPERATOR`` - who runs the crawl, recorded in ``warcinfo`` (optional).
* ``USER_AGENT`` - recorded in ``warcinfo`` as ``http-header-user-agent``.
* ``ROBOTSTXT_OBEY`` - recorded in ``warcinfo`` as ``robots: obey`` or ``ignore``.

Stats: ``warc/responses``, ``warc/records`` (request and response records),
``warc/bytes`` (compressed bytes on disk), ``warc/files``, ``warc/skipped`` and
``warc/skipped/<reason>``, ``warc/errors``.  A failed write is logged and counted
but never stops the crawl.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured

from storage.warc import WarcWriter

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Headers, Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

ARCHIVED_SCHEMES = frozenset({"http", "https"})

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
        max_size: int = 1_000_000_000,
        warcinfo: dict[str, str] | None = None,
    ) -> None:
        """Keep the writer's configuration; the writer is created on the first response."""
        self.stats = stats
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = max_size
        self.warcinfo = dict(warcinfo or {})
        self._writer: WarcWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureMiddleware:
        """Build the middleware from settings and close it when the spider closes."""
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC capture disabled by WARC_ENABLED")
        archive_dir = settings.get("ARCHIVE_DIR") or "archive"
        directory = settings.get("WARC_DIR") or Path(archive_dir) / "warc"
        spider_name = getattr(crawler.spider, "name", None)
        prefix = settings.get("WARC_PREFIX") or spider_name or "archive"
        warcinfo = {
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        }
        if operator := settings.get("WARC_OPERATOR"):
            warcinfo["operator"] = str(operator)
        if user_agent := settings.get("USER_AGENT"):
            warcinfo["http-header-user-agent"] = str(user_agent)
        middleware = cls(
            crawler.stats,
            directory=directory,
            prefix=prefix,
            max_size=settings.getint("WARC_MAX_SIZE", 1_000_000_000),
            warcinfo=warcinfo,
        )
        # spider_closed fires after the downloader has drained (every response has
        # been through process_response) and before the stats are dumped.
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

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

    def _get_writer(self) -> WarcWriter:
        if self._writer is None:
            self._writer = WarcWriter(
                self.directory,
                prefix=self.prefix,
                max_size=self.max_size,
                warcinfo=self.warcinfo,
            )
        return self._writer

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
