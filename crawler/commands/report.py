"""``scrapy report``: what the archive under ``ARCHIVE_DIR`` holds, and how the last crawl went.

Prints the last crawl's summary block (from ``CRAWL_SUMMARY_FILE``, default
``<ARCHIVE_DIR>/last-crawl.json``), the latest crawls' reports with their outcome
(``CRAWL_REPORTS_DIR``, default ``<ARCHIVE_DIR>/reports/``: a failed or incomplete night stands
out), the articles in the store per site with their date range, and the WARC files (``WARC_DIR``)
with their sizes. An ``ARCHIVE_DIR`` that does not exist is refused in one line (exit code 2); a
summary or store that cannot be read is named in one line on standard error, the rest is
reported, and the exit code is 1.

``--output DIR`` also writes the coverage report into ``DIR`` (``crawler/coverage_page.py``):
``coverage.html`` with PNG charts of the articles per month per site and section (gaps in red),
the fill rate of each field and the failures by reason, and every number in ``coverage.json``.
The numbers come from the store (``storage/coverage.py``) and the crawl reports' summaries
(failures and dropped articles by reason, summed). Without a store there is nothing to chart: one
line, exit code 2.

Settings: ``ARCHIVE_DIR`` and the paths under it (``crawler/paths.py``).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from scrapy.exceptions import UsageError

from crawler.cli import (
    InputError,
    OfflineCommand,
    cannot_read,
    cannot_write,
    one_line_errors,
    print_error,
    store_error,
    store_for_reading,
)
from crawler.extensions.summary import format_summary
from crawler.paths import ArchivePaths


class Command(OfflineCommand):
    def short_desc(self) -> str:
        return "Summarize the archive: last crawl, stored articles, WARC files"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "-o", "--output", metavar="DIR",
            help="also write the coverage report (coverage.html, PNG charts, coverage.json) here",
        )

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError(f"takes no arguments, not {' '.join(args)!r}")
        paths = ArchivePaths.from_settings(self.settings)
        if not paths.root.is_dir():
            raise InputError(f"ARCHIVE_DIR {paths.root} is not a directory: no archive there")
        output = Path(opts.output) if opts.output else None
        if output is not None and output.exists() and not output.is_dir():
            raise InputError(f"--output {output}: is a file; give a folder")
        if output is not None and not paths.articles_db.exists():
            raise InputError(f"no article store at {paths.articles_db}: no coverage to report")
        self._print_summary(paths.summary_file)
        print_reports(paths.reports_dir)
        self._print_store(paths.articles_db)
        print_files(paths)
        if output is not None:
            write_coverage_report(paths, output)

    def _print_summary(self, summary_file: Path | None) -> None:
        """The last crawl's summary block."""
        if summary_file is None:
            print("No crawl summary (CRAWL_SUMMARY_FILE is empty)")
        elif summary_file.exists():
            try:
                summary = json.loads(summary_file.read_text(encoding="utf-8"))
                print(format_summary(summary["spider"], summary["finish_reason"], summary))
            except (OSError, ValueError, KeyError, TypeError) as error:
                self._unreadable(cannot_read(summary_file, error))
        else:
            print(f"No crawl summary at {summary_file}")

    def _print_store(self, db: Path) -> None:
        """The stored articles per site, with their date range."""
        if not db.exists():
            print(f"No article store at {db}")
            return
        try:
            with store_for_reading(db) as store:
                rows = store.sites()
        except sqlite3.Error as error:
            self._unreadable(store_error(db, error))
            return
        print(f"Article store {db}:")
        for site, count, first, last in rows:
            print(f"  {site}: {count} articles, published {first} .. {last}")

    def _unreadable(self, error: InputError) -> None:
        print_error("report", error)
        self.exitcode = 1


def print_files(paths: ArchivePaths) -> None:
    """The WARC files with their sizes, the failure report and the exports in the archive."""
    warcs = sorted(paths.warc_dir.glob("*.warc.gz*"))
    total = sum(path.stat().st_size for path in warcs)
    print(f"WARC files in {paths.warc_dir}: {len(warcs)}, {total / 1e6:.2f} MB")
    for path in warcs:
        print(f"  {path.name}  {path.stat().st_size / 1e6:.2f} MB")
    failures = paths.failures_file
    if failures is not None and failures.exists():
        with open(failures, encoding="utf-8") as handle:
            print(f"Failure report {failures}: {sum(1 for _ in handle)} URLs")
    for path in sorted(paths.root.glob("*.jsonl")) + sorted(paths.root.glob("*.csv")):
        if path != failures:
            print(f"Export: {path} ({path.stat().st_size / 1e6:.2f} MB)")


def print_reports(root: Path, latest: int = 10) -> None:
    """One line per crawl among the latest: its outcome, or that it never ended (killed)."""
    folders = sorted(root.iterdir()) if root.is_dir() else []
    if not folders:
        return
    print(f"Crawl reports in {root}: {len(folders)} (latest {min(latest, len(folders))}):")
    for folder in folders[-latest:]:
        try:
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            print(f"  {folder.name}: no summary (killed or still running)")
            continue
        print(f"  {folder.name}: {summary.get('status', summary.get('finish_reason'))}, "
              f"exit code {summary.get('exit_code', 0)}, {summary.get('pages_fetched', 0)} pages, "
              f"{summary.get('articles_stored', 0)} articles stored, "
              f"{summary.get('failed_urls', 0)} URLs failed")


def write_coverage_report(paths: ArchivePaths, output: Path) -> None:
    """Write ``coverage.html``, its charts and ``coverage.json`` into ``output``."""
    # matplotlib is only needed here: `scrapy report` without --output does not load it.
    from crawler.coverage_page import write_coverage
    from storage.coverage import coverage

    db = paths.articles_db
    try:
        with store_for_reading(db) as store:
            numbers = coverage(store)
    except sqlite3.Error as error:
        raise store_error(db, error) from error
    numbers = {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "store": str(db),
        **numbers,
        "failures": {"failed_articles": numbers.pop("failed_articles"),
                     "crawl_reports": crawl_failures(paths.reports_dir)},
    }
    try:
        written = write_coverage(numbers, output)
    except OSError as error:
        raise cannot_write(getattr(error, "filename", None) or output, error) from error
    gaps = ", ".join(f"{gap['site']} {gap['section'] or '(all sections)'} {gap['month']}"
                     for gap in numbers["gaps"])
    print(f"Coverage report: {written[0]} ({len(written)} files); "
          f"gaps: {gaps or 'none'}")


def crawl_failures(root: Path) -> dict:
    """Failures and dropped articles by reason, summed over every crawl report's summary."""
    failed: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    crawls = 0
    for summary_file in sorted(root.glob("*/summary.json")) if root.is_dir() else []:
        try:
            summary = json.loads(summary_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a crawl killed before its summary: `print_reports` names it
        crawls += 1
        failed.update(summary.get("failed_by_reason") or {})
        dropped.update(summary.get("dropped_by_reason") or {})
    return {"crawls": crawls, "failed_by_reason": dict(failed.most_common()),
            "dropped_by_reason": dict(dropped.most_common())}
