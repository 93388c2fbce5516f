"""``scrapy report``: what the archive under ``ARCHIVE_DIR`` holds, and how the last crawl went.

Prints the last crawl's summary block (from ``CRAWL_SUMMARY_FILE``, default
``<ARCHIVE_DIR>/last-crawl.json``), the latest crawls' reports with their outcome
(``CRAWL_REPORTS_DIR``, default ``<ARCHIVE_DIR>/reports/``: a failed or incomplete night stands
out), the articles in the store per site with their date range, and the WARC files (``WARC_DIR``)
with their sizes. An ``ARCHIVE_DIR`` that does not exist is refused in one line (exit code 2); a
summary or store that cannot be read is named in one line on standard error, the rest is
reported, and the exit code is 1.

Settings: ``ARCHIVE_DIR`` and the paths under it (``crawler/paths.py``).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

from scrapy.exceptions import UsageError

from crawler.cli import (
    InputError,
    OfflineCommand,
    cannot_read,
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

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError(f"takes no arguments, not {' '.join(args)!r}")
        paths = ArchivePaths.from_settings(self.settings)
        if not paths.root.is_dir():
            raise InputError(f"ARCHIVE_DIR {paths.root} is not a directory: no archive there")
        self._print_summary(paths.summary_file)
        print_reports(paths.reports_dir)
        self._print_store(paths.articles_db)
        print_files(paths)

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
