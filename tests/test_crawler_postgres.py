"""A crawl of the replica portal into PostgreSQL (``DATABASE_URL``): every article stored there,
read back by ``scrapy export``, ``search``, ``jobs`` and ``report`` as from the SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage.articles import ArticleStore
from tests.conftest import run_crawl, scrapy

# What differs between two crawls of the same pages: when, and where in which WARC file.
CRAWL_FIELDS = ("fetched", "first_fetched", "warc")


@pytest.fixture(scope="module")
def postgres_crawl(replica, postgres, tmp_path_factory):
    url = postgres.database()
    run = run_crawl(replica.origin, tmp_path_factory.mktemp("postgres-crawl"), DATABASE_URL=url)
    assert run.returncode == 0, run.log[-4000:]
    return run, url


def exported(archive: Path, output: Path, *settings: str) -> list[dict]:
    result = scrapy("export", "-s", f"ARCHIVE_DIR={archive}", *settings, "--output", str(output))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    return [{k: v for k, v in record.items() if k not in CRAWL_FIELDS} for record in records]


def test_a_crawl_into_postgresql_stores_every_article_there(postgres_crawl, site, replica):
    run, url = postgres_crawl
    assert not run.db.exists()  # nothing went to the SQLite file
    with ArticleStore(url) as store:
        assert store.count("baonamdinh") == len(site.articles)
        urls = {record["url"] for record in store.iter_articles()}
        assert urls == {article.url(replica.origin) for article in site.articles}
        assert store.last_complete_run("baonamdinh") is not None


def test_its_export_is_the_sqlite_crawls_export(postgres_crawl, full_crawl, tmp_path):
    run, url = postgres_crawl
    from_postgres = exported(run.archive, tmp_path / "pg" / "a.jsonl", "-s", f"DATABASE_URL={url}")
    from_sqlite = exported(full_crawl.archive, tmp_path / "sqlite" / "a.jsonl")
    assert len(from_postgres) == run.summary["articles_new"] > 0
    assert from_postgres == from_sqlite


def test_search_jobs_and_report_read_it(postgres_crawl, tmp_path):
    run, url = postgres_crawl
    database = ("-s", f"ARCHIVE_DIR={run.archive}", "-s", f"DATABASE_URL={url}")
    with ArticleStore(url) as store:
        word = next(store.iter_articles())["title"].split()[0]
    search = scrapy("search", *database, word)
    assert search.returncode == 0 and word in search.stdout, search.stderr
    jobs = scrapy("jobs", *database)
    assert jobs.returncode == 0 and "complete" in jobs.stdout, jobs.stderr
    report = scrapy("report", *database, "--output", str(tmp_path / "report"))
    assert report.returncode == 0, report.stderr
    coverage = json.loads((tmp_path / "report" / "coverage.json").read_text())
    assert coverage["articles"] == run.summary["articles_new"]
    browse = scrapy("browse", *database, "--print-metadata")
    assert browse.returncode == 2
    assert "scrapy browse serves an SQLite store" in browse.stderr
