"""The store on both backends: job history and export selections read alike from SQLite and
PostgreSQL; where ``DATABASE_URL`` points; an SQLite archive moved into PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from storage.articles import ArticleStore, FetchState
from storage.backends import DatabaseUrl, StoreLocationError, store_location
from storage.export import Selection, export_dataset
from storage.jobs import JobHistory
from tests.conftest import scrapy
from tests.test_storage_articles import make_record


def test_the_job_history_is_written_and_read_alike(store_location):
    with ArticleStore(store_location) as store:
        store.start_run("r1", "baonamdinh", "2026-11-01T01:00:00+00:00")
        store.finish_run("r1", "2026-11-01T02:00:00+00:00", "finished", "complete", True)
        history = JobHistory.of(store)
        history.record("r1", spider="baonamdinh", site="baonamdinh", job="j1",
                       started="2026-11-01T01:00:00+00:00", finished="2026-11-01T02:00:00+00:00",
                       reason="finished", status="complete", exit_code=0,
                       summary={"articles_new": 3, "tên": "Nam Định"}, flags=[])
        unrecorded = history.record(
            None, spider="baonamdinh", site="baonamdinh", job="j2",
            started="2026-11-02T01:00:00+00:00", finished="2026-11-02T01:05:00+00:00",
            reason="finished", status="failed", exit_code=4, summary={}, flags=["no articles"])
        store.start_run("r3", "baonamdinh", "2026-11-03T01:00:00+00:00")  # killed: no end
        jobs = history.jobs()
        assert [job.run_id for job in jobs] == ["r3", unrecorded, "r1"]
        assert [job.run_id for job in history.jobs(site="baonamdinh")] == [unrecorded, "r1"]
        assert jobs[2].summary == {"articles_new": 3, "tên": "Nam Định"}
        assert (jobs[2].job, jobs[2].exit_code, jobs[2].needs_a_look) == ("j1", 0, False)
        assert [job.run_id for job in history.jobs(needs_a_look=True)] == ["r3", unrecorded]
        assert history.jobs(exclude="r3", limit=1)[0].flags == ("no articles",)
        assert history.sites() == {"baonamdinh"}
        # A run started again under its id starts afresh, as SQLite's REPLACE leaves it.
        store.start_run("r1", "baonamdinh", "2026-11-04T01:00:00+00:00")
        again = [job for job in history.jobs() if job.run_id == "r1"][0]
        assert (again.finished, again.status, again.summary) == (None, None, {})


def selected(store: ArticleStore, tmp_path: Path, **selection) -> list[dict]:
    output = tmp_path / "export" / "articles.jsonl"
    export_dataset(store, output, selection=Selection(**selection))
    return [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]


def test_export_selections_read_alike(store_location, tmp_path):
    with ArticleStore(store_location) as store:
        store.upsert(make_record("http://x/a/", section="Kinh tế",
                                 published="2020-02-12T08:00:00+07:00"))
        store.upsert(make_record("http://x/a/", body="Đường làng.\n\nĐổ bê tông.",
                                 section="Kinh tế", published="2020-02-12T08:00:00+07:00"))
        store.upsert(make_record("http://x/b/", title="Đại hội Đảng bộ", section="Chính trị",
                                 published="2020-03-01T08:00:00+07:00"))
        latest = selected(store, tmp_path)
        assert [(r["url"], r["version"]) for r in latest] == [("http://x/a/", 2),
                                                             ("http://x/b/", 1)]
        assert latest[0]["authors"] == ["Lam Hồng"] and latest[0]["first_fetched"]
        assert [r["url"] for r in selected(store, tmp_path, query="duong lang")] == [
            "http://x/a/"]
        assert [r["url"] for r in selected(store, tmp_path, query="dai hoi")] == ["http://x/b/"]
        assert [r["url"] for r in selected(store, tmp_path, section="Chính trị")] == [
            "http://x/b/"]
        versions = selected(store, tmp_path, versions=True, since="2020-02-12",
                            until="2020-02-12")
        assert [(r["url"], r["version"]) for r in versions] == [("http://x/a/", 1),
                                                               ("http://x/a/", 2)]


def test_database_url_names_postgresql_or_keeps_the_sqlite_file(tmp_path):
    sqlite_file = tmp_path / "articles.sqlite3"
    assert store_location("", sqlite_file) == sqlite_file
    location = store_location("postgresql://archive:s3cret@db.example:5432/archive", sqlite_file)
    assert isinstance(location, DatabaseUrl) and location.name == "archive"
    # Logs and messages name the database, never its password.
    assert str(location) == "postgresql://archive:***@db.example:5432/archive"
    with pytest.raises(StoreLocationError, match="not a PostgreSQL URL"):
        store_location("mysql://archive@db/archive", sqlite_file)


def test_movestore_moves_every_table_checks_every_row_and_can_run_again(postgres, tmp_path):
    archive = tmp_path / "archive"
    with ArticleStore(archive / "articles.sqlite3") as store:
        for number in range(7):
            store.upsert(make_record(f"http://x/{number}/", title=f"Đại hội {number}"))
        store.upsert(make_record("http://x/0/", body="Đường làng mới."))
        store.record_fetch(FetchState("http://x/0/", 200, etag='"e1"'))
        store.start_run("r1", "baonamdinh", "2026-11-01T01:00:00+00:00")
        store.finish_run("r1", "2026-11-01T02:00:00+00:00", "finished", "complete", True)
        store.record_failure("http://x/9/", "baonamdinh", "http_500", "500",
                             datetime(2026, 11, 1, tzinfo=timezone.utc), 10)
        store.expect_assets("baonamdinh", "http://x/0/", ["http://x/0/a.jpg"])
    url = postgres.database()
    command = ["movestore", "-s", f"ARCHIVE_DIR={archive}", "--to", url]
    first = scrapy(*command)
    assert first.returncode == 0, first.stderr
    assert "articles                  7 rows; in PostgreSQL 0 before, 7 now" in first.stdout
    assert "Every row arrived" in first.stdout
    again = scrapy(*command)  # nothing is duplicated
    assert "article_versions          8 rows; in PostgreSQL 8 before, 8 now" in again.stdout
    with ArticleStore(archive / "articles.sqlite3") as sqlite_store, ArticleStore(url) as moved:
        assert list(moved.iter_articles()) == list(sqlite_store.iter_articles())
        assert moved.versions("http://x/0/") == sqlite_store.versions("http://x/0/")
        assert moved.fetch_states() == sqlite_store.fetch_states()
        assert moved.last_complete_run("baonamdinh") == sqlite_store.last_complete_run(
            "baonamdinh")
        assert moved.failed_articles("baonamdinh") == {"http_500": 1}
        assert moved.count_assets() == sqlite_store.count_assets() == {"pending": 1}
        assert [hit.canonical_url for hit in moved.search("duong lang")] == ["http://x/0/"]


def test_movestore_refuses_what_is_not_postgresql_in_one_line(tmp_path):
    result = scrapy("movestore", "-s", f"ARCHIVE_DIR={tmp_path}", "--to", "sqlite:///x.db")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "scrapy movestore: --to sqlite:///x.db: not a PostgreSQL URL "
        "(postgresql://user@host/database)"]


def test_an_unreachable_database_is_one_line_without_its_password(tmp_path):
    result = scrapy("export", "-s", f"ARCHIVE_DIR={tmp_path}", "-s",
                    "DATABASE_URL=postgresql://archive:s3cret@127.0.0.1:1/archive",
                    "--output", str(tmp_path / "out" / "a.jsonl"))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("scrapy export: article store "
                           "postgresql://archive:***@127.0.0.1:1/archive: connection failed")
    assert "s3cret" not in result.stderr
