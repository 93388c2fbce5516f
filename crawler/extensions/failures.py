"""The failure report: one JSON line per URL that yielded no archived page or stored article.

Components report a failed URL by sending the :data:`url_failed` signal (the portal spider does
it from its errback and for pages it cannot parse); articles dropped by a pipeline arrive through
Scrapy's ``item_dropped`` signal, with the reason the pipeline put on its ``DropItem``
(``reason`` attribute). Each URL is written once per crawl, as it fails, to the crawl's own
``failures.jsonl`` (in its report folder, see ``crawler/extensions/reports.py``)::

    {"url": "…", "reason": "http_404", "attempts": 1, "detail": "…", "discovery": false,
     "time": "…"}

(``discovery``: the URL was a sitemap, feed or listing page the crawl needed to be complete) and
counted as ``failures/<reason>`` in the crawl stats (the summary reads them). Lines are flushed
one by one, so a killed crawl keeps its report. When the crawl ends, the report is copied to
``FAILURES_FILE``; reports of earlier crawls stay in their folders.

Settings: ``FAILURES_FILE`` - where the latest crawl's report is copied (default
``<ARCHIVE_DIR>/failures.jsonl``; empty to switch the report off); ``CRAWL_REPORTS_DIR``.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from scrapy import signals
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotConfigured,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

from crawler.extensions.reports import crawl_report_dir, publish
from crawler.paths import ArchivePaths

logger = logging.getLogger(__name__)

# Sent with url=, reason=, attempts= and detail= by whoever gives up on a URL.
url_failed = object()


def failure_reason(failure: Failure) -> str:
    """A short, stable reason for a failed request (``http_503``, ``timeout``, …)."""
    error = failure.value
    if isinstance(error, HttpError):
        return f"http_{error.response.status}"
    message = str(error)
    if isinstance(error, IgnoreRequest):
        if "robots.txt" in message:
            return "robots_forbidden"
        if "redirections" in message:
            return "redirect_loop"
        if "DOWNLOAD_MAXSIZE" in message or "max size" in message:
            return "too_large"
        if "offsite redirect" in message:
            return "offsite_redirect"
        if "offsite" in message:
            return "offsite"
        return "ignored"
    if isinstance(error, DownloadCancelledError) and "max size" in message:
        return "too_large"
    reasons: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
        ((DownloadTimeoutError, TimeoutError, TCPTimedOutError), "timeout"),
        ((ResponseDataLossError,), "truncated"),
        ((DownloadFailedError, ConnectionLost, ConnectionDone), "connection_lost"),
        ((DownloadConnectionRefusedError, ConnectionRefusedError), "connection_refused"),
        ((CannotResolveHostError, DNSLookupError), "dns_error"),
    )
    for types, reason in reasons:
        if isinstance(error, types):
            return reason
    return type(error).__name__


class FailureReport:
    """Write the crawl's ``failures.jsonl`` and count failures by reason."""

    def __init__(self, path: Path, stats, reports: Path, spider_name: str) -> None:
        self.path = path
        self.stats = stats
        self.reports = reports
        self.spider_name = spider_name
        # This crawl's report, in its own folder (opened with the spider).
        self.report: Path | None = None
        self._file: IO[str] | None = None
        self._reported: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        paths = ArchivePaths.from_settings(crawler.settings)
        if paths.failures_file is None:
            raise NotConfigured("FAILURES_FILE is empty")
        spider_name = getattr(crawler.spider, "name", None) or "crawl"
        extension = cls(paths.failures_file, crawler.stats, paths.reports_dir, spider_name)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(extension.url_failed, signal=url_failed)
        return extension

    def spider_opened(self) -> None:
        folder = crawl_report_dir(self.stats, self.reports, self.spider_name)
        self.report = folder / "failures.jsonl"
        self._file = self.report.open("w", encoding="utf-8")

    def spider_closed(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            publish(self.report, self.path)
        failed = {
            key.removeprefix("failures/"): value
            for key, value in sorted(self.stats.get_stats().items())
            if key.startswith("failures/")
        }
        if failed:
            logger.warning(
                "%s URLs failed (%s); listed in %s", sum(failed.values()),
                ", ".join(f"{reason} {count}" for reason, count in failed.items()), self.report,
            )

    def url_failed(
        self, url: str, reason: str, attempts: int = 1, detail: str = "", discovery: bool = False
    ) -> None:
        """Record one URL that yielded nothing (once per crawl)."""
        if url in self._reported:
            return
        self._reported.add(url)
        self.stats.inc_value(f"failures/{reason}")
        if self._file is None:
            return
        line = {
            "url": url,
            "reason": reason,
            "attempts": attempts,
            "detail": detail[:500],
            "discovery": discovery,
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._file.flush()

    def item_dropped(self, item, response, exception) -> None:
        url = item.get("url") or getattr(response, "url", "")
        attempts = response.meta.get("retry_times", 0) + 1 if response is not None else 1
        reason = getattr(exception, "reason", "dropped")
        self.url_failed(url, reason, attempts, str(exception))
