"""The article store: upsert by canonical URL, versions, export."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.items import Article
from crawler.parsing.article import content_hash
from storage.articles import ARTICLE_FIELDS, ArticleStore, FetchState
from storage.backends import is_postgres
from storage.export import export, parquet_row


def make_record(url: str, body: str = "Đoạn một.\n\nĐoạn hai.", **fields) -> dict:
    record = {
        "url": url, "canonical_url": url, "site": "baonamdinh", "title": "Tiêu đề bài viết",
        "lead": "Sa pô.", "body": body, "published": "2020-02-12T19:29:00+07:00",
        "authors": ["Lam Hồng"], "credit": "Tin, ảnh", "tags": ["Nam Định"],
        "images": [{"src": url + "a.jpg", "caption": "Chú thích", "credit": None}],
        "fetched": "2026-11-29T10:00:00+00:00", "published_source": "selector",
        "warc": {"filename": "a.warc.gz", "offset": 0, "record_id": "<urn:uuid:1>"},
    }
    record.update(fields)
    record["content_hash"] = content_hash(record)
    return record


@pytest.fixture()
def store(store_location):
    """An empty store, in SQLite and in PostgreSQL: every test using it runs on both."""
    with ArticleStore(store_location) as store:
        yield store


@pytest.fixture()
def sqlite_store(tmp_path):
    """An empty SQLite store, for what only SQLite has (a file a researcher opens)."""
    with ArticleStore(tmp_path / "articles.sqlite3") as store:
        yield store


def test_new_article_is_version_one_and_reads_back_whole(store):
    record = make_record("http://x/a/")
    assert store.upsert(record).status == "new"
    stored = store.get("http://x/a/")
    assert stored["version"] == 1
    assert stored["authors"] == ["Lam Hồng"]
    assert stored["images"][0]["caption"] == "Chú thích"
    assert stored["published_source"] == "selector"
    assert stored["body"] == record["body"]


def test_same_content_is_stored_once(store):
    store.upsert(make_record("http://x/a/"))
    again = make_record("http://x/a/", fetched="2026-11-30T10:00:00+00:00")
    assert store.upsert(again).status == "unchanged"
    assert store.count() == 1
    assert store.get("http://x/a/")["fetched"] == "2026-11-30T10:00:00+00:00"
    assert len(store.versions("http://x/a/")) == 1


def test_changed_article_becomes_new_version_and_keeps_the_old(store):
    store.upsert(make_record("http://x/a/"))
    result = store.upsert(make_record("http://x/a/", body="Đoạn một đã sửa."))
    assert (result.status, result.version) == ("updated", 2)
    versions = store.versions("http://x/a/")
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["body"] == "Đoạn một.\n\nĐoạn hai."
    assert store.get("http://x/a/")["body"] == "Đoạn một đã sửa."
    assert store.count() == 1


def test_record_without_content_hash_is_refused_with_its_url(store):
    record = make_record("http://x/a/")
    record["content_hash"] = None
    with pytest.raises(ValueError, match="http://x/a/"):
        store.upsert(record)


def test_iter_articles_slices_by_site_and_inclusive_dates(store):
    store.upsert(make_record("http://x/1/", published="2020-02-11T23:59:00+07:00"))
    store.upsert(make_record("http://x/2/", published="2020-02-12T00:00:00+07:00"))
    store.upsert(make_record("http://x/3/", published="2020-02-13T08:00:00+07:00"))
    store.upsert(make_record("http://y/4/", site="other", published="2020-02-12T08:00:00+07:00"))
    urls = [r["url"] for r in store.iter_articles(site="baonamdinh", since="2020-02-12",
                                                  until="2020-02-13")]
    assert urls == ["http://x/2/", "http://x/3/"]


def test_store_is_plain_sqlite_a_researcher_can_query(sqlite_store, tmp_path):
    store = sqlite_store
    store.upsert(make_record("http://x/a/"))
    store.close()
    with sqlite3.connect(tmp_path / "articles.sqlite3") as connection:
        (title,) = connection.execute("SELECT title FROM articles").fetchone()
    assert title == "Tiêu đề bài viết"


def test_jsonl_export_is_utf8_not_ascii_escaped(store, tmp_path):
    store.upsert(make_record("http://x/a/"))
    output = tmp_path / "out" / "articles.jsonl"
    assert export(store.iter_articles(), output, "jsonl") == 1
    text = output.read_text(encoding="utf-8")
    assert "Lam Hồng" in text and "\\u" not in text
    (line,) = text.splitlines()
    assert json.loads(line)["title"] == "Tiêu đề bài viết"
    assert not output.with_name("articles.jsonl.partial").exists()


def test_csv_export_has_header_and_json_lists(store, tmp_path):
    store.upsert(make_record("http://x/a/"))
    output = tmp_path / "articles.csv"
    export(store.iter_articles(), output, "csv")
    with open(output, encoding="utf-8", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert json.loads(row["authors"]) == ["Lam Hồng"]


def test_parquet_export_has_typed_columns_and_the_jsonl_values(store, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    # As a crawl stores them: the whole WARC pointer and every provenance key.
    complete = {
        "warc": {"filename": "a.warc.gz", "record_id": "<urn:uuid:1>", "offset": 0,
                 "length": 812, "payload_digest": "sha1:X", "target_uri": "http://x/a/",
                 "record_type": "revisit", "refers_to": "<urn:uuid:0>",
                 "date": "2026-11-29T10:00:00.5Z",
                 "original": {"filename": "0.warc.gz", "record_id": "<urn:uuid:0>", "offset": 9,
                              "length": 800, "date": "2026-11-28T10:00:00Z",
                              "target_uri": "http://x/a/"}},
        "modified_source": None, "dates_disagree": False, "title_source": "selector",
        "lead_source": "selector", "body_source": "selector", "fallback": [],
        "published_zone_source": "page", "modified_zone_source": None,
        # Present when the page's canonical URL was not used (crawler/origins.py).
        "canonical_rejected": None, "canonical_claimed": None,
    }
    store.upsert(make_record("http://x/a/", **complete))
    store.upsert(make_record("http://x/b/", **{**complete, "fallback": ["body"]}, images=[],
                             lead=None))
    assert export(store.iter_articles(), tmp_path / "a.parquet", "parquet") == 2
    export(store.iter_articles(), tmp_path / "a.jsonl", "jsonl")
    table = pq.read_table(tmp_path / "a.parquet")
    assert table.schema.field("authors").type == pa.list_(pa.string())
    assert table.schema.field("version").type == pa.int32()
    assert pa.types.is_struct(table.schema.field("images").type.value_type)
    lines = (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()
    # The same values; dates as instants beside their text (published_local).
    rows = [parquet_row(json.loads(line)) for line in lines]
    assert table.to_pylist() == [{name: row.get(name) for name in table.column_names}
                                 for row in rows]
    assert table.column("published_local").to_pylist() == ["2020-02-12T19:29:00+07:00"] * 2
    # An empty selection still gives a readable file with every column.
    assert export([], tmp_path / "none.parquet", "parquet") == 0
    assert pq.read_table(tmp_path / "none.parquet").schema.names == table.schema.names


def test_unknown_export_format_names_the_choices(store, tmp_path):
    with pytest.raises(ValueError, match="jsonl, csv, parquet"):
        export([], tmp_path / "x.xml", "xml")


def test_item_schema_covers_every_stored_field():
    assert set(ARTICLE_FIELDS) <= set(Article.fields)


def test_known_articles_are_listed_by_url_and_canonical_url(store):
    store.upsert(make_record("http://x/a/?utm=1", canonical_url="http://x/a/"))
    known = store.known_articles("baonamdinh")
    assert set(known) == {"http://x/a/?utm=1", "http://x/a/"}
    assert known["http://x/a/"].published == "2020-02-12T19:29:00+07:00"
    assert store.known_articles("other") == {}


def test_one_known_article_is_looked_up_by_url_or_canonical_url_within_its_site(store):
    store.upsert(make_record("http://x/a/?utm=1", canonical_url="http://x/a/"))
    store.upsert(make_record("http://x/b/", site="other"))
    by_url = store.known_article("baonamdinh", "http://x/a/?utm=1")
    assert by_url == store.known_article("baonamdinh", "http://x/a/")
    assert (by_url.url, by_url.published, by_url.first_fetched) == (
        "http://x/a/?utm=1", "2020-02-12T19:29:00+07:00", "2026-11-29T10:00:00+00:00")
    # Another site's article at a URL (the replica serves every profile on one origin).
    assert store.known_article("baonamdinh", "http://x/b/") is None
    assert store.known_article("other", "http://x/b/").url == "http://x/b/"
    assert store.known_article("baonamdinh", "http://x/c/") is None


def test_the_fetch_state_of_one_url_is_looked_up(store):
    store.record_fetch(FetchState("http://x/a/", 200, '"e1"', fetched="2026-11-29T10:00:00+00:00"))
    assert store.fetch_state("http://x/a/") == store.fetch_states()["http://x/a/"]
    assert store.fetch_state("http://x/b/") is None


def test_fetch_state_keeps_validators_a_later_fetch_does_not_repeat(store):
    store.record_fetch(FetchState("http://x/a/", 200, '"e1"', "Wed, 12 Feb 2020 12:29:00 GMT",
                                  "2020-02-12T19:29:00+07:00", "2026-11-29T10:00:00+00:00"))
    store.record_fetch(FetchState("http://x/a/", 304, fetched="2026-11-30T10:00:00+00:00"))
    state = store.fetch_states()["http://x/a/"]
    assert (state.status, state.etag, state.lastmod) == (304, '"e1"', "2020-02-12T19:29:00+07:00")
    assert state.fetched == "2026-11-30T10:00:00+00:00"


def test_last_complete_run_ignores_interrupted_and_failed_runs(store):
    assert store.last_complete_run("baonamdinh") is None
    store.start_run("r1", "baonamdinh", "2026-11-28T01:00:00+00:00")
    store.finish_run("r1", "2026-11-28T02:00:00+00:00", "finished", "complete", complete=True)
    store.start_run("r2", "baonamdinh", "2026-11-29T01:00:00+00:00")  # killed: never finished
    store.start_run("r3", "baonamdinh", "2026-11-29T03:00:00+00:00")
    store.finish_run("r3", "2026-11-29T03:10:00+00:00", "shutdown", "interrupted")
    # The portal was down: Scrapy says "finished", but nothing was read.
    store.start_run("r4", "baonamdinh", "2026-11-30T01:00:00+00:00")
    store.finish_run("r4", "2026-11-30T01:01:00+00:00", "finished", "failed")
    assert store.last_complete_run("baonamdinh") == (
        "2026-11-28T01:00:00+00:00", "2026-11-28T02:00:00+00:00"
    )


A_BODY = "Hội nghị tổng kết năm 2019.\n\nTỉnh đạt mọi chỉ tiêu.\n\nNăm 2020 đặt mục tiêu mới."
P_BODY = "Xã Nghĩa Lâm làm đường mới.\n\nNgười dân góp công.\n\nCông trình xong trong tháng."


def test_a_page_naming_another_articles_url_as_canonical_does_not_replace_it(store):
    store.upsert(make_record("http://x/a/", body=A_BODY, title="Tổng kết năm"))
    claim = make_record("http://x/p/", canonical_url="http://x/a/", body=P_BODY,
                        title="Làm đường mới")
    result = store.upsert(claim)
    assert (result.status, result.canonical_url, result.canonical_rejected) == (
        "new", "http://x/p/", "collision")
    assert store.count() == 2
    assert [v["title"] for v in store.versions("http://x/a/")] == ["Tổng kết năm"]
    page = store.get("http://x/p/")
    assert (page["title"], page["canonical_rejected"], page["canonical_claimed"]) == (
        "Làm đường mới", "collision", "http://x/a/")
    assert "canonical_rejected" not in store.get("http://x/a/")


def test_an_article_takes_its_url_back_from_a_page_that_named_it_first(store):
    claim = make_record("http://x/p/", canonical_url="http://x/a/", body=P_BODY,
                        title="Làm đường mới")
    store.upsert(claim)
    store.upsert(make_record("http://x/p/", canonical_url="http://x/a/", body=P_BODY + " Sửa.",
                             title="Làm đường mới"))
    result = store.upsert(make_record("http://x/a/", body=A_BODY, title="Tổng kết năm"))
    assert (result.status, result.version, result.moved) == ("new", 1, "http://x/p/")
    assert store.count() == 2
    assert store.get("http://x/a/")["title"] == "Tổng kết năm"
    assert [v["title"] for v in store.versions("http://x/a/")] == ["Tổng kết năm"]
    moved = store.get("http://x/p/")
    assert (moved["canonical_url"], moved["version"], moved["canonical_rejected"]) == (
        "http://x/p/", 2, "collision")
    assert [(v["canonical_url"], v["version"]) for v in store.versions("http://x/p/")] == [
        ("http://x/p/", 1), ("http://x/p/", 2)]
    assert set(store.known_articles()) == {"http://x/a/", "http://x/p/"}


def test_another_url_of_the_same_article_still_updates_it(store):
    store.upsert(make_record("http://x/a/", body=A_BODY, title="Tổng kết năm"))
    # The print view of the same article, one paragraph edited since: a version, not a new row.
    edited = A_BODY.replace("mục tiêu mới", "mục tiêu mới cao hơn")
    result = store.upsert(make_record("http://x/a/?print=1", canonical_url="http://x/a/",
                                      body=edited, title="Tổng kết  năm"))
    assert (result.status, result.canonical_url, result.canonical_rejected) == (
        "updated", "http://x/a/", None)
    assert store.count() == 1


def test_a_store_written_before_complete_runs_is_migrated_and_trusts_none(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # crawl_runs as the first version created it
        db.execute("CREATE TABLE crawl_runs (run_id TEXT PRIMARY KEY, spider TEXT NOT NULL, "
                   "started TEXT NOT NULL, finished TEXT, reason TEXT)")
        db.execute("INSERT INTO crawl_runs VALUES ('r0', 'baonamdinh', "
                   "'2026-11-01T01:00:00+00:00', '2026-11-01T02:00:00+00:00', 'finished')")
    with ArticleStore(path) as store:
        # An old "finished" may be a night the portal was down: the next crawl reads everything.
        assert store.last_complete_run("baonamdinh") is None
        store.start_run("r1", "baonamdinh", "2026-11-02T01:00:00+00:00")
        store.finish_run("r1", "2026-11-02T02:00:00+00:00", "finished", "complete", complete=True)
        assert store.last_complete_run("baonamdinh") == (
            "2026-11-02T01:00:00+00:00", "2026-11-02T02:00:00+00:00")
    with ArticleStore(path) as store:  # opening a migrated file again changes nothing
        assert store.last_complete_run("baonamdinh")[0] == "2026-11-02T01:00:00+00:00"


def test_a_failed_article_is_tried_next_crawl_then_after_1_2_4_days_capped(store):
    start = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)
    waits = []
    for failure in range(1, 8):
        failed = store.record_failure("http://x/a/", "baonamdinh", "http_500", "500", start, 10)
        assert failed.failures == failure
        waits.append(datetime.fromisoformat(failed.next_attempt) - start)
    assert [wait / timedelta(days=1) for wait in waits] == [0, 1, 2, 4, 8, 10, 10]
    assert failed.first_failed == failed.last_failed == "2026-11-01T02:00:00.000000+00:00"
    assert list(store.due_failures("baonamdinh", start + timedelta(days=9))) == []
    assert list(store.due_failures("baonamdinh", start + timedelta(days=10))) == ["http://x/a/"]
    assert list(store.due_failures("other", start + timedelta(days=99))) == []
    assert store.failed_articles("baonamdinh") == {"http_500": 1}
    assert store.clear_failures(["http://x/a/", "http://x/unknown/"]) == 1
    assert store.failed_articles("baonamdinh") == {}


def test_due_failures_are_read_in_batches_through_the_index(store):
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    for number in range(25):
        # Several share one failure time: batches continue after (next_attempt, url).
        when = now - timedelta(hours=number // 4)
        store.record_failure(f"http://x/{number:02d}/", "baonamdinh", "timeout", None, when, 32)
    store.record_failure("http://x/later/", "baonamdinh", "timeout", None, now, 32)
    store.record_failure("http://x/later/", "baonamdinh", "timeout", None, now, 32)  # in 1 day
    due = list(store.due_failures("baonamdinh", now, batch=4))
    assert sorted(due) == [f"http://x/{number:02d}/" for number in range(25)]
    assert len(set(due)) == 25
    if is_postgres(store.path):
        return  # the plan below is SQLite's; PostgreSQL's planner weighs statistics
    plan = " ".join(row[3] for row in store._db.execute(
        "EXPLAIN QUERY PLAN SELECT url FROM failed_articles WHERE spider = ? AND next_attempt <= ? "
        "AND (next_attempt, url) > (?, ?) ORDER BY next_attempt, url LIMIT 4",
        ("baonamdinh", "9", "", "")))
    assert "failed_articles_due" in plan and "TEMP B-TREE" not in plan, plan


def _open_store_at_once(path: str, barrier, errors) -> None:
    from storage.warc_digests import DigestIndex

    barrier.wait()
    try:
        ArticleStore(path).close()
        DigestIndex(Path(path).with_name("warc-digests.sqlite3")).close()
    except Exception as error:  # reported to the test, which names it
        errors.put(f"{type(error).__name__}: {error}")


def test_workers_opening_a_new_store_at_the_same_moment_all_get_it(tmp_path):
    # Two crawls on one machine (scrapyd, or workers of one REDIS_URL crawl) start together on a
    # store (and a digest index) that does not exist yet: each makes or migrates the schema, and
    # none may fail
    # ("database is locked" switching to WAL, "duplicate column name" adding a column).
    import multiprocessing

    context = multiprocessing.get_context("fork")
    failures = []
    for round_ in range(5):
        path = tmp_path / f"round{round_}" / "articles.sqlite3"
        path.parent.mkdir()
        barrier, errors = context.Barrier(6), context.Queue()
        processes = [context.Process(target=_open_store_at_once, args=(str(path), barrier, errors))
                     for _ in range(6)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(60)
        while not errors.empty():
            failures.append(errors.get())
        with ArticleStore(path) as store:
            store.upsert(make_record("http://x/a/"))
            assert store.count() == 1
    assert failures == []
