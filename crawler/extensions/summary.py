"""Judge how a crawl went, print one summary block when it ends, and keep it as JSON.

The block says whether the crawl is complete, and what was fetched, stored, dropped (by reason),
retried and archived, so a crawl never ends silently. `crawl_outcome` is the one judge of a crawl,
used by the summary, by the store's record of crawl runs (``crawler/middlewares/fetch_state.py``:
only a complete crawl lets later ones skip unchanged sitemaps and listing pages) and by
``scrapy crawl`` for its exit code (``crawler/commands/crawl.py``):

* ``complete`` (exit 0) - Scrapy finished and every discovery request got a usable answer:
  sitemaps (the index and every sitemap it lists that the crawl read), feeds, listing pages
  (the first of each; every page on a site without sitemaps), see
  ``PortalSpider.is_discovery_request``;
* ``bounded`` (exit 0) - as complete, but ``-a since``/``until`` limited it to part of the portal;
* ``interrupted`` (exit 0) - stopped before the end (Ctrl-C, SIGTERM, a ``CLOSESPIDER_*`` limit):
  the next run resumes it;
* ``incomplete`` (exit 3) - some discovery request failed (``discovery/failed/<reason>``);
  what was found is archived, but the crawl cannot know what it missed;
* ``failed`` (exit 4) - the portal gave nothing usable: no page (robots.txt aside) was answered
  with 2xx or 304, e.g. the portal was down.

The judgement reads the crawl stats (``discovery/failed/*`` counted by the spider,
``discovery/failed_before_pause`` carried over a graceful stop by the job state, Scrapy's
``downloader/response_status_count/*``).

Every crawl's summary also goes into the job history of the article store (``storage/jobs.py``,
the crawl's ``crawl_runs`` row; ``scrapy jobs`` prints it), judged against the site's earlier
crawls (``crawler/scheduling/health.py``): each reason it falls far below the site's usual is a
``flags`` entry of the summary and a WARNING in the log.

Settings: ``CRAWL_SUMMARY_FILE`` - where the latest crawl's JSON is copied (default
``<ARCHIVE_DIR>/last-crawl.json``; empty to skip); each crawl's own copy is ``summary.json`` in its
report folder (``CRAWL_REPORTS_DIR``, see ``crawler/extensions/reports.py``).
``ARTICLES_STORE_ENABLED`` / ``ARTICLES_DB`` - the store of the job history (none when off);
``SITECHECK_MARGIN`` - the fill-rate drop that flags a crawl; ``WARC_DIR``, ``WARC_PREFIX`` -
to name the crawl's WARC files.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from scrapy import signals

from crawler.extensions.progress import dropped_total
from crawler.extensions.reports import crawl_report_dir, publish
from crawler.paths import ArchivePaths
from crawler.pipelines.fillrate import rates_from_stats
from crawler.scheduling.health import flag_crawl
from storage.articles import ArticleStore
from storage.jobs import JobHistory, warc_files_of_crawl

logger = logging.getLogger(__name__)

# Exit codes of `scrapy crawl` beyond Scrapy's own (1: the crawl could not run, 2: usage).
EXIT_INCOMPLETE = 3
EXIT_FAILED = 4


@dataclass(frozen=True)
class CrawlOutcome:
    """How a crawl went: ``status``, the exit code it gives, and why."""

    status: str
    exit_code: int
    detail: str

    @property
    def complete(self) -> bool:
        """Whether later crawls may rely on this one (skip what it read unchanged)."""
        return self.status == "complete"


def by_prefix(stats: dict, prefix: str) -> dict[str, int]:
    """The stats under ``prefix``, by the rest of their key."""
    return {k[len(prefix):]: v for k, v in sorted(stats.items()) if k.startswith(prefix)}


def usable_pages(stats: dict) -> int:
    """Pages answered 2xx or 304, robots.txt aside."""
    def answered(prefix: str) -> int:
        return sum(
            count for status, count in by_prefix(stats, prefix).items()
            if status.isdigit() and (200 <= int(status) < 300 or int(status) == 304)
        )

    return answered("downloader/response_status_count/") - answered(
        "robotstxt/response_status_count/")


def crawl_outcome(stats: dict, reason: str, spider=None) -> CrawlOutcome:
    """Judge a crawl from its stats, Scrapy's finish ``reason`` and its spider's arguments."""
    failures = by_prefix(stats, "discovery/failed/")
    failed = sum(failures.values()) + stats.get("discovery/failed_before_pause", 0)
    counts = ", ".join(f"{name} {count}" for name, count in failures.items())
    nothing = stats.get("downloader/request_count", 0) and not usable_pages(stats)
    # A crawl stopped before its first answer, with no failure yet, is only interrupted.
    if nothing and (failed or reason == "finished"):
        why = f"{failed} discovery requests failed" if failed else "no page was answered"
        return CrawlOutcome("failed", EXIT_FAILED, (
            f"the portal gave nothing usable ({why}" + (f": {counts}" if counts else "") + ")"))
    if failed:
        return CrawlOutcome("incomplete", EXIT_INCOMPLETE, (
            f"{failed} discovery requests failed" + (f" ({counts})" if counts else "")
            + "; later crawls do not rely on it"))
    if reason != "finished":
        return CrawlOutcome("interrupted", 0, f"stopped before the end ({reason})")
    if getattr(spider, "since", None) or getattr(spider, "until", None):
        return CrawlOutcome("bounded", 0, "limited by -a since/until to part of the portal")
    return CrawlOutcome("complete", 0, "every discovery request was answered")


def summarize(stats: dict, elapsed: float) -> dict:
    """The summary's figures from the crawl stats."""
    pages = stats.get("response_received_count", 0)
    return {
        "elapsed_seconds": round(elapsed, 3),
        "pages_fetched": pages,
        "pages_per_second": round(pages / elapsed, 2) if elapsed else None,
        "http_status": by_prefix(stats, "downloader/response_status_count/"),
        "articles_stored": stats.get("articles/stored", 0),
        "articles_new": stats.get("articles/new", 0),
        "articles_updated": stats.get("articles/updated", 0),
        "articles_unchanged": stats.get("articles/unchanged", 0),
        "articles_dropped": dropped_total(stats),
        "dropped_by_reason": by_prefix(stats, "articles/dropped/"),
        "skipped_by_reason": by_prefix(stats, "articles/skipped/"),
        "failed_urls": sum(by_prefix(stats, "failures/").values()),
        "failed_by_reason": by_prefix(stats, "failures/"),
        # Requests to other origins, dropped unfetched (crawler/middlewares/origin.py).
        "offsite_by_kind": by_prefix(stats, "offsite/"),
        "fallback_by_site": by_prefix(stats, "articles/fallback/"),
        # Per site: articles parsed, share having each key field (crawler/pipelines/fillrate).
        "fill_rates": rates_from_stats(stats),
        "discovered_by_source": by_prefix(stats, "articles/discovered/"),
        "discovery_failed": by_prefix(stats, "discovery/failed/"),
        "sitemaps_skipped_unchanged": stats.get("sitemaps/skipped/unchanged", 0),
        # Articles earlier crawls failed to store, tried again (crawler/extensions/retries.py).
        "retries": {
            "requested": stats.get("failed_articles/retried", 0),
            "recovered": stats.get("failed_articles/recovered", 0),
            "failed_again": stats.get("failed_articles/failed_again", 0),
            "new": stats.get("failed_articles/new", 0),
            "pending": sum(by_prefix(stats, "failed_articles/pending/").values()),
            "pending_by_reason": by_prefix(stats, "failed_articles/pending/"),
        },
        # The portal spider (spiders/portal.py): pages by verdict, articles by the route that
        # found them, trap stops by kind.
        "pages_classified": by_prefix(stats, "portal/classified/"),
        "articles_by_route": by_prefix(stats, "portal/articles_by_route/"),
        "trap_stops": by_prefix(stats, "portal/traps/"),
        "warc_files": stats.get("warc/files", 0),
        "warc_bytes": stats.get("warc/bytes", 0),
        "warc_records": stats.get("warc/records", 0),
        "errors_logged": stats.get("log_count/ERROR", 0),
    }


def format_summary(name: str, reason: str, summary: dict) -> str:
    """The summary as the block printed at the end of a crawl."""
    def reasons(counts: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"

    retries = summary.get("retries", {})
    outcome = summary.get("status", reason)
    return "\n".join([
        f"Crawl summary: {name} ({reason}): {outcome}"
        + (f", exit code {summary['exit_code']}" if summary.get("exit_code") else "")
        + (f" - {summary['outcome']}" if summary.get("outcome") else ""),
        f"  pages fetched     {summary['pages_fetched']} in {summary['elapsed_seconds']:.1f} s "
        f"({summary['pages_per_second'] or 0:.1f} pages/s); HTTP {reasons(summary['http_status'])}",
        f"  articles stored   {summary['articles_stored']} (new {summary['articles_new']}, "
        f"updated {summary['articles_updated']}, unchanged {summary['articles_unchanged']})",
        f"  articles dropped  {summary['articles_dropped']}: "
        f"{reasons(summary['dropped_by_reason'])}",
        f"  articles skipped  {reasons(summary['skipped_by_reason'])}",
        f"  URLs failed       {summary.get('failed_urls', 0)}: "
        f"{reasons(summary.get('failed_by_reason', {}))} "
        f"(see {Path(summary.get('report', '.')) / 'failures.jsonl'})",
        f"  discovery failed  {reasons(summary.get('discovery_failed', {}))}",
        f"  failed articles   retried {retries.get('requested', 0)}, "
        f"recovered {retries.get('recovered', 0)}, failed again {retries.get('failed_again', 0)}, "
        f"new {retries.get('new', 0)}; waiting: {retries.get('pending', 0)} "
        f"({reasons(retries.get('pending_by_reason', {}))})",
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
        *(f"  FLAGGED           {flag}" for flag in summary.get("flags", ())),
    ])


class CrawlSummary:
    """Summary block at the end of every crawl."""

    def __init__(self, stats, summary_file: Path | None, reports: Path,
                 articles_db: Path | None = None, warc_dir: Path | None = None,
                 settings=None) -> None:
        self.stats = stats
        self.summary_file = summary_file
        self.reports = reports
        self.articles_db = articles_db
        self.warc_dir = warc_dir
        self.settings = settings
        self._started = time.monotonic()
        self._started_utc = datetime.now(timezone.utc)

    @classmethod
    def from_crawler(cls, crawler):
        paths = ArchivePaths.from_settings(crawler.settings)
        store = crawler.settings.getbool("ARTICLES_STORE_ENABLED", True)
        extension = cls(crawler.stats, paths.summary_file, paths.reports_dir,
                        paths.articles_db if store else None, paths.warc_dir, crawler.settings)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        self._started = time.monotonic()
        self._started_utc = datetime.now(timezone.utc)

    def spider_closed(self, spider, reason: str) -> None:
        stats = self.stats.get_stats()
        outcome = crawl_outcome(stats, reason, spider)
        folder = crawl_report_dir(self.stats, self.reports, spider.name)
        summary = {
            "status": outcome.status, "exit_code": outcome.exit_code, "outcome": outcome.detail,
            "report": str(folder),
            **summarize(stats, time.monotonic() - self._started),
            "started": self._started_utc.isoformat(),
            "finished": datetime.now(timezone.utc).isoformat(),
        }
        if self.articles_db is not None:
            summary["flags"] = self._record_job(spider, reason, summary)
        logger.info("%s", format_summary(spider.name, reason, summary))
        if not outcome.complete and outcome.exit_code:
            logger.error("Crawl %s: %s; it does not count as a complete crawl (exit code %s)",
                         outcome.status, outcome.detail, outcome.exit_code)
        record = {"spider": spider.name, "finish_reason": reason, **summary}
        report = folder / "summary.json"
        report.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        if self.summary_file:
            publish(report, self.summary_file)

    def _record_job(self, spider, reason: str, summary: dict) -> list[str]:
        """Judge the crawl against its site's earlier ones, log each flag, write the history."""
        site = getattr(spider, "site_key", None) or getattr(
            getattr(spider, "profile", None), "site_id", None) or spider.name
        prefix = (self.settings.get("WARC_PREFIX") if self.settings else None) or spider.name
        if self.warc_dir is not None:
            summary["warc_file_names"] = warc_files_of_crawl(
                self.warc_dir, prefix, summary["started"])
        margin = self.settings.getfloat("SITECHECK_MARGIN", 0.1) if self.settings else 0.1
        run_id = self.stats.get_value("crawl_runs/run_id")
        try:
            with ArticleStore(self.articles_db) as store:
                history = JobHistory.of(store)
                earlier = [job.summary for job in history.jobs(site=site, limit=10,
                                                                 exclude=run_id)
                           if job.summary and job.finished]
                flags = flag_crawl(site, summary, earlier, margin)
                history.record(
                    run_id, spider=getattr(spider, "crawl_key", None) or spider.name, site=site,
                    job=getattr(spider, "_job", None), started=summary["started"],
                    finished=summary["finished"], reason=reason, status=summary["status"],
                    exit_code=summary["exit_code"], summary=summary, flags=flags)
        except sqlite3.Error as error:
            logger.error("Could not write the job history to %s: %s", self.articles_db, error)
            return []
        for flag in flags:
            logger.warning("Crawl of %s flagged: %s", site, flag)
        return flags
