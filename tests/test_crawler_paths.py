"""Every command finds the archive's files where the settings put them (``crawler/paths.py``).

The crawl honours ``WARC_DIR`` and ``CRAWL_SUMMARY_FILE``; so must the commands that read what it
wrote, or an archivist who moved the WARC files to a bigger disk is told there are none.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import scrapy
from tests.encoded_warc import ENCODERS, archive_articles

# A summary as a crawl writes it (crawler/extensions/summary.py), cut to what `report` prints.
SUMMARY = {
    "spider": "baonamdinh", "finish_reason": "finished", "status": "complete",
    "pages_fetched": 7, "elapsed_seconds": 1.0, "pages_per_second": 7.0, "http_status": {},
    "articles_stored": 5, "articles_new": 5, "articles_updated": 0, "articles_unchanged": 0,
    "articles_dropped": 0, "dropped_by_reason": {}, "skipped_by_reason": {},
    "discovered_by_source": {}, "warc_files": 1, "warc_records": 14, "warc_bytes": 1000,
    "errors_logged": 0,
    "fill_rates": {"baonamdinh": {"articles": 5, "rates": {"title": 1.0, "body": 1.0}}},
}


def moved_archive(tmp_path: Path) -> tuple[list[str], Path]:
    """An archive whose WARC files and crawl summary live outside ``ARCHIVE_DIR``."""
    archive, elsewhere = tmp_path / "archive", tmp_path / "big-disk"
    archive.mkdir()
    archive_articles(elsewhere / "warc", "https://baonamdinh.vn")
    summary = elsewhere / "summary.json"
    summary.write_text(json.dumps(SUMMARY), encoding="utf-8")
    settings = ["-s", f"ARCHIVE_DIR={archive}", "-s", f"WARC_DIR={elsewhere / 'warc'}",
                "-s", f"CRAWL_SUMMARY_FILE={summary}"]
    return settings, elsewhere


def test_reparse_reads_the_warc_files_of_warc_dir(tmp_path):
    settings, elsewhere = moved_archive(tmp_path)
    result = scrapy("reparse", "baonamdinh", "--dry-run", *settings)
    assert result.returncode == 0, result.stderr
    assert (f"Reparsed {len(ENCODERS)} archived baonamdinh articles from {elsewhere / 'warc'}"
            in result.stdout), result.stdout


def test_sitecheck_reads_warc_dir_and_compares_with_the_crawl_summary_file(tmp_path):
    settings, elsewhere = moved_archive(tmp_path)
    result = scrapy("sitecheck", "baonamdinh", *settings)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (f"{len(ENCODERS)} latest archived articles; compared with last crawl "
            f"({elsewhere / 'summary.json'})") in result.stdout, result.stdout


def test_report_prints_the_crawl_summary_file_and_lists_warc_dir(tmp_path):
    settings, elsewhere = moved_archive(tmp_path)
    result = scrapy("report", *settings)
    assert result.returncode == 0, result.stderr
    assert "Crawl summary: baonamdinh (finished): complete" in result.stdout, result.stdout
    assert f"WARC files in {elsewhere / 'warc'}: 1," in result.stdout, result.stdout
