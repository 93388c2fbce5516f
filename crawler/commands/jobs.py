"""``scrapy jobs [--site ID] [--failed] [--limit N]``: the job history, the morning check.

One line per crawl, newest first (scheduled through scrapyd or run by hand): when it started
(UTC), the site, its outcome and exit code, how long it ran, pages fetched, articles new /
updated / unchanged, URLs failed and articles dropped, WARC files written, and the scrapyd job
id; under it, each reason it was flagged as far below the site's usual
(``crawler/scheduling/health.py``) and the failures by reason. A crawl with no end was killed or
is still running. ``--failed`` keeps the crawls that need a look: failed, incomplete, flagged or
never ended. Reads ``ARTICLES_DB`` (default ``<ARCHIVE_DIR>/articles.sqlite3``), read-only; the
history itself is ``storage/jobs.py``.
"""

from __future__ import annotations

import argparse
import sqlite3

from crawler.cli import InputError, OfflineCommand, one_line_errors, store_error, store_for_reading
from crawler.paths import ArchivePaths
from storage.jobs import Job, JobHistory

HEADER = (f"{'started (UTC)':<20} {'site':<16} {'status':<12} {'exit':>4} {'time':>7} "
          f"{'pages':>6} {'new':>5} {'upd':>4} {'same':>5} {'failed':>6} {'WARC':>4}  job")


class Command(OfflineCommand):
    def syntax(self) -> str:
        return "[--site ID] [--failed] [--limit N]"

    def short_desc(self) -> str:
        return "Print the job history: every crawl's figures, failed and flagged ones marked"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--site", help="only this site id")
        parser.add_argument("--failed", action="store_true",
                            help="only crawls that failed, were incomplete, flagged or killed")
        parser.add_argument("--limit", type=int, default=20,
                            help="at most this many crawls (default 20; 0: all)")

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise InputError(f"takes no arguments, not {' '.join(args)!r} (use --site ID)")
        if opts.limit < 0:
            raise InputError(f"--limit {opts.limit}: expected 0 (all) or more")
        path = ArchivePaths.from_settings(self.settings).articles_db
        if not path.exists():
            raise InputError(f"no article store at {path} (run a crawl first, or set "
                             "ARCHIVE_DIR / ARTICLES_DB)")
        try:
            with store_for_reading(path) as store:
                history = JobHistory.of(store)
                if opts.site and opts.site not in history.sites():
                    raise InputError(f"--site {opts.site}: no crawl of it in the job history "
                                     f"of {path}")
                jobs = history.jobs(site=opts.site, needs_a_look=opts.failed,
                                    limit=opts.limit or None)
        except sqlite3.Error as error:
            raise store_error(path, error) from error
        what = "crawls that need a look" if opts.failed else "crawls"
        if not jobs:
            print(f"No {what} in the job history of {path}")
            return
        print(f"Job history of {path}: latest {len(jobs)} {what}, newest first")
        print(HEADER)
        for job in jobs:
            print(format_job(job))


def format_job(job: Job) -> str:
    """One crawl's line, then its flags and failures by reason (indented)."""
    s = job.summary
    status = (job.status or "-") if job.finished else "no end (running, or killed)"
    line = (f"{job.started[:19].replace('T', ' '):<20} {job.site or job.spider:<16} "
            f"{status:<12} {_value(job.exit_code):>4} {_duration(s):>7} "
            f"{_value(s.get('pages_fetched')):>6} {_value(s.get('articles_new')):>5} "
            f"{_value(s.get('articles_updated')):>4} {_value(s.get('articles_unchanged')):>5} "
            f"{_value(_lost(s)):>6} {_value(s.get('warc_files')):>4}  "
            f"{job.job or ('by hand' if s else '-')}")
    lines = [line]
    lines += [f"    FLAGGED: {flag}" for flag in job.flags]
    reasons = {**s.get("failed_by_reason", {}),
               **{f"dropped/{k}": v for k, v in s.get("dropped_by_reason", {}).items()}}
    if reasons:
        lines.append("    failures: " + ", ".join(f"{k} {v}" for k, v in reasons.items()))
    return "\n".join(lines)


def _lost(summary: dict) -> int | None:
    if not summary:
        return None
    return summary.get("failed_urls", 0) + summary.get("articles_dropped", 0)


def _duration(summary: dict) -> str:
    seconds = summary.get("elapsed_seconds")
    if seconds is None:
        return "-"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _value(value: object) -> str:
    return "-" if value is None else str(value)
