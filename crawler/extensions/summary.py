"""Print one summary block when a crawl ends, and keep it as JSON beside the archive.

Settings: ``CRAWL_SUMMARY_FILE`` - where the JSON goes (default ``<ARCHIVE_DIR>/last-crawl.json``;
empty to skip). The block says what was fetched, stored, dropped (by reason) and archived, so a
crawl never ends silently.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from scrapy import signals

from crawler.extensions.progress import dropped_total
from crawler.pipelines.fillrate import rates_from_stats

logger = logging.getLogger(__name__)


def summarize(stats: dict, elapsed: float) -> dict:
    """The summary's figures from the crawl stats."""
    pages = stats.get("response_received_count", 0)

    def by_prefix(prefix: str) -> dict[str, int]:
        return {k[len(prefix):]: v for k, v in sorted(stats.items()) if k.startswith(prefix)}

    return {
        "elapsed_seconds": round(elapsed, 3),
        "pages_fetched": pages,
        "pages_per_second": round(pages / elapsed, 2) if elapsed else None,
        "http_status": by_prefix("downloader/response_status_count/"),
        "articles_stored": stats.get("articles/stored", 0),
        "articles_new": stats.get("articles/new", 0),
        "articles_updated": stats.get("articles/updated", 0),
        "articles_unchanged": stats.get("articles/unchanged", 0),
        "articles_dropped": dropped_total(stats),
        "dropped_by_reason": by_prefix("articles/dropped/"),
        "skipped_by_reason": by_prefix("articles/skipped/"),
        "failed_urls": sum(by_prefix("failures/").values()),
        "failed_by_reason": by_prefix("failures/"),
        # Requests to other origins, dropped unfetched (crawler/middlewares/origin.py).
        "offsite_by_kind": by_prefix("offsite/"),
        "fallback_by_site": by_prefix("articles/fallback/"),
        # Per site: articles parsed, share having each key field (crawler/pipelines/fillrate).
        "fill_rates": rates_from_stats(stats),
        "discovered_by_source": by_prefix("articles/discovered/"),
        # The portal spider (spiders/portal.py): pages by verdict, articles by the route that
        # found them, trap stops by kind.
        "pages_classified": by_prefix("portal/classified/"),
        "articles_by_route": by_prefix("portal/articles_by_route/"),
        "trap_stops": by_prefix("portal/traps/"),
        "warc_files": stats.get("warc/files", 0),
        "warc_bytes": stats.get("warc/bytes", 0),
        "warc_records": stats.get("warc/records", 0),
        "errors_logged": stats.get("log_count/ERROR", 0),
    }


def format_summary(name: str, reason: str, summary: dict) -> str:
    """The summary as the block printed at the end of a crawl."""
    def reasons(counts: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"

    return "\n".join([
        f"Crawl summary: {name} ({reason})",
        f"  pages fetched     {summary['pages_fetched']} in {summary['elapsed_seconds']:.1f} s "
        f"({summary['pages_per_second'] or 0:.1f} pages/s); HTTP {reasons(summary['http_status'])}",
        f"  articles stored   {summary['articles_stored']} (new {summary['articles_new']}, "
        f"updated {summary['articles_updated']}, unchanged {summary['articles_unchanged']})",
        f"  articles dropped  {summary['articles_dropped']}: "
        f"{reasons(summary['dropped_by_reason'])}",
        f"  articles skipped  {reasons(summary['skipped_by_reason'])}",
        f"  URLs failed       {summary.get('failed_urls', 0)}: "
        f"{reasons(summary.get('failed_by_reason', {}))} (see failures.jsonl)",
        f"  other origins     {reasons(summary.get('offsite_by_kind', {}))} (not fetched)",
        f"  generic fallback  {reasons(summary.get('fallback_by_site', {}))}",
        *(
            f"  fill rates        {site} ({data['articles']} articles): "
            + ", ".join(f"{name} {rate:.0%}" for name, rate in data["rates"].items())
            for site, data in summary.get("fill_rates", {}).items()
        ),
        f"  discovered via    {reasons(summary['discovered_by_source'])}",
        *(
            [f"  pages classified  {reasons(summary['pages_classified'])}",
             f"  articles found by {reasons(summary.get('articles_by_route', {}))}",
             f"  trap stops        {reasons(summary.get('trap_stops', {}))} "
             "(see failures.jsonl)"]
            if summary.get("pages_classified") else []
        ),
        f"  WARC              {summary['warc_files']} files, {summary['warc_records']} records, "
        f"{summary['warc_bytes'] / 1e6:.2f} MB",
        f"  errors logged     {summary['errors_logged']}",
    ])


class CrawlSummary:
    """Summary block at the end of every crawl."""

    def __init__(self, stats, summary_file: Path | None) -> None:
        self.stats = stats
        self.summary_file = summary_file
        self._started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        configured = settings.get("CRAWL_SUMMARY_FILE")
        if configured is None:
            summary_file = Path(settings["ARCHIVE_DIR"]) / "last-crawl.json"
        else:
            summary_file = Path(configured) if configured else None
        extension = cls(crawler.stats, summary_file)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        self._started = time.monotonic()

    def spider_closed(self, spider, reason: str) -> None:
        summary = summarize(self.stats.get_stats(), time.monotonic() - self._started)
        logger.info("%s", format_summary(spider.name, reason, summary))
        if self.summary_file:
            self.summary_file.parent.mkdir(parents=True, exist_ok=True)
            record = {"spider": spider.name, "finish_reason": reason, **summary}
            self.summary_file.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
