"""Full-text search of the article store: Vietnamese without diacritics, phrases, prefixes,
an index that follows every change to the store, and stores that predate it."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from storage import search as fulltext
from storage.articles import ArticleStore
from storage.search import SearchSyntaxError, rebuild_index
from tests.test_storage_articles import make_record

CONGRESS = make_record(
    "http://x/dai-hoi/", title="Đại hội Đảng bộ tỉnh Nam Định lần thứ XX",
    lead="Sáng 14-10, Đại hội đại biểu Đảng bộ tỉnh khai mạc.",
    body="Đại hội bầu Ban Chấp hành Đảng bộ tỉnh.\n\nCác đại biểu thảo luận văn kiện.",
    published="2020-10-14T08:00:00+07:00", section="Chính trị",
)
VILLAGES = make_record(
    "http://x/nong-thon/", title="Xã Hải Hậu đạt chuẩn nông thôn mới nâng cao",
    lead="Huyện Hải Hậu có thêm 3 xã đạt chuẩn.",
    body="Chương trình xây dựng nông thôn mới được người dân đồng tình.\n\nĐường làng đổ bê tông.",
    published="2021-03-02T09:30:00+07:00", section="Kinh tế",
)
FOOTBALL = make_record(
    "http://y/bong-da/", site="other", title="Thép Xanh Nam Định thắng trận thứ ba",
    lead="Đội bóng thành Nam giữ ngôi đầu.", body="Trận đấu trên sân Thiên Trường.",
    published="2021-03-05T19:00:00+07:00", section="Thể thao",
)


def three_articles(location):
    store = ArticleStore(location)
    for record in (CONGRESS, VILLAGES, FOOTBALL):
        store.upsert(record)
    return store


@pytest.fixture()
def store(store_location):
    """Three articles, in SQLite and in PostgreSQL: every test using it runs on both."""
    with three_articles(store_location) as store:
        yield store


@pytest.fixture()
def sqlite_store(tmp_path):
    """Three articles in an SQLite file (for SQLite's own index, triggers and clients)."""
    with three_articles(tmp_path / "articles.sqlite3") as store:
        yield store


def found(store: ArticleStore, query: str, **filters) -> list[str]:
    return [hit.canonical_url for hit in store.search(query, **filters)]


@pytest.mark.parametrize("query", [
    "nong thon moi", "nông thôn mới", "NONG THON", "nong thôn moi",
])
def test_a_query_with_or_without_diacritics_finds_the_article(store, query):
    assert found(store, query) == [VILLAGES["url"]]


@pytest.mark.parametrize("query", [
    "dai hoi dang bo", "Đại hội Đảng bộ", "DAI HOI DANG BO", '"dai hoi dang bo"', "đại hội",
])
def test_d_with_stroke_is_folded_too(store, query):
    # đ/Đ is a letter of its own, not a d with a mark: the tokenizer alone would not fold it.
    assert found(store, query) == [CONGRESS["url"]]


def test_phrases_keep_word_order_and_prefixes_match_word_starts(store):
    assert found(store, '"nong thon moi"') == [VILLAGES["url"]]
    assert found(store, '"moi nong thon"') == []
    assert found(store, "thien truong") == [FOOTBALL["url"]]
    assert found(store, "thien*") == [FOOTBALL["url"]]
    assert set(found(store, "nam")) == {CONGRESS["url"], FOOTBALL["url"]}
    assert found(store, "nam NOT thep") == [CONGRESS["url"]]


def test_hits_carry_a_snippet_of_the_original_text_with_the_matches_marked(store):
    [hit] = store.search("dai hoi dang bo")
    assert hit.title == CONGRESS["title"]
    assert hit.published == "2020-10-14T08:00:00+07:00"
    assert hit.url == CONGRESS["url"]
    # The snippet is the stored text, diacritics and đ included, with the words that matched.
    assert hit.snippet == "Sáng 14-10, [Đại] [hội] [đại] biểu [Đảng] [bộ] tỉnh khai mạc."
    [hit] = store.search("duong lang")
    assert "[Đường] [làng]" in hit.snippet


def test_a_title_match_ranks_above_a_body_match(store_location):
    with ArticleStore(store_location) as store:
        store.upsert(make_record("http://x/body/", title="Tin tổng hợp",
                                 body="Một đoạn nói về lúa xuân.\n\nĐoạn khác."))
        store.upsert(make_record("http://x/title/", title="Lúa xuân được mùa",
                                 body="Nông dân phấn khởi.\n\nĐoạn khác."))
        assert found(store, "lua xuan") == ["http://x/title/", "http://x/body/"]


def test_site_dates_and_limit_filter_the_hits(store):
    assert found(store, "nam", site="other") == [FOOTBALL["url"]]
    assert found(store, "nam", since="2021-01-01") == [FOOTBALL["url"]]
    assert found(store, "nam", until="2020-10-14") == [CONGRESS["url"]]
    assert len(store.search("nam", limit=1)) == 1


@pytest.mark.parametrize("query", ['"unclosed', "COVID-19", "AND", "", "   ", "title: (a"])
def test_a_query_fts5_cannot_read_is_one_clear_error(store, query):
    with pytest.raises(SearchSyntaxError) as error:
        store.search(query)
    assert "\n" not in str(error.value)


def test_the_index_follows_new_versions_moves_updates_and_deletes(sqlite_store, tmp_path):
    store = sqlite_store
    # A new version replaces the old text in the index (the store's INSERT OR REPLACE).
    store.upsert({**VILLAGES, "body": "Cánh đồng mẫu lớn ở Giao Thủy.",
                  "content_hash": "sha256:v2"})
    assert found(store, "canh dong mau lon") == [VILLAGES["url"]]
    assert found(store, "duong lang") == []
    assert found(store, "nong thon moi") == [VILLAGES["url"]]  # still in its title
    # Anyone's SQL keeps it in step too: the triggers live in the file.
    with sqlite3.connect(tmp_path / "articles.sqlite3") as db:
        db.execute("PRAGMA recursive_triggers = ON")  # REPLACE then fires delete triggers too
        db.execute("UPDATE articles SET title = 'Giao Thủy mùa lúa' WHERE canonical_url = ?",
                   (VILLAGES["url"],))
        db.execute("INSERT OR REPLACE INTO articles SELECT * FROM articles WHERE site = 'other'")
        db.execute("DELETE FROM articles WHERE canonical_url = ?", (CONGRESS["url"],))
    assert found(store, "nong thon moi") == []
    assert found(store, "giao thuy") == [VILLAGES["url"]]
    assert found(store, "dai hoi") == []
    assert found(store, "thien truong") == [FOOTBALL["url"]]
    assert index_entries(tmp_path / "articles.sqlite3") == rebuilt_entries(store)


def index_entries(path) -> set[tuple]:
    """Every (term, row, column, position) the index holds."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, articles_fts, instance)")
        return set(db.execute("SELECT term, doc, col, offset FROM temp.terms"))


def rebuilt_entries(store: ArticleStore) -> set[tuple]:
    """What the index holds when built afresh from the stored articles."""
    rebuild_index(store._db)
    return index_entries(store.path)


def test_a_store_written_before_the_index_gets_it_on_first_opening(tmp_path):
    path = tmp_path / "articles.sqlite3"
    with ArticleStore(path) as store:
        store.upsert(CONGRESS)
        store.upsert(VILLAGES)
    with sqlite3.connect(path) as db:  # as an earlier version left it
        for name in ("insert", "replace", "delete", "update"):
            db.execute(f"DROP TRIGGER articles_fts_{name}")
        db.execute("DROP TABLE articles_fts")
        db.execute("DROP TABLE articles_fts_pending")
    with ArticleStore(path, readonly=True) as store:
        with pytest.raises(ValueError, match="no full-text index"):
            store.search("nong thon")
    with ArticleStore(path) as store:
        assert found(store, "nong thon moi") == [VILLAGES["url"]]
        assert found(store, "dai hoi") == [CONGRESS["url"]]


def test_new_articles_wait_for_a_batch_that_every_way_of_reading_takes_first(tmp_path, caplog):
    path = tmp_path / "articles.sqlite3"
    writer = ArticleStore(path)
    writer.upsert(CONGRESS)
    writer.upsert(VILLAGES)
    # Another program reading the store while the crawl runs does not see the batch yet, and
    # is told why.
    with ArticleStore(path, readonly=True) as reader, caplog.at_level(logging.WARNING):
        assert found(reader, "dai hoi") == []
    assert "not in the full-text index yet" in caplog.text
    # The writer's own search takes the batch first; so does closing the store.
    assert found(writer, "dai hoi") == [CONGRESS["url"]]
    writer.upsert(FOOTBALL)
    writer.close()
    with ArticleStore(path, readonly=True) as reader:
        assert found(reader, "thien truong") == [FOOTBALL["url"]]
        assert found(reader, "nong thon moi") == [VILLAGES["url"]]
    with ArticleStore(path) as store:
        assert index_entries(path) == rebuilt_entries(store)


def test_a_long_crawl_indexes_every_batch_as_it_goes(tmp_path, monkeypatch):
    monkeypatch.setattr(fulltext, "PENDING_BATCH", 2)
    path = tmp_path / "articles.sqlite3"
    with ArticleStore(path) as writer:
        writer.upsert(CONGRESS)
        writer.upsert(VILLAGES)  # the second of a batch: indexed without closing
        writer.upsert(FOOTBALL)  # the first of the next: waits
        with ArticleStore(path, readonly=True) as reader:
            assert found(reader, "dai hoi") == [CONGRESS["url"]]
            assert found(reader, "nong thon moi") == [VILLAGES["url"]]
            assert found(reader, "thien truong") == []


def test_a_crawl_killed_before_its_batch_leaves_it_to_the_next_program_that_writes(tmp_path):
    path = tmp_path / "articles.sqlite3"
    killed = textwrap.dedent(f"""
        import os
        from storage.articles import ArticleStore
        from tests.test_storage_search import CONGRESS, VILLAGES
        store = ArticleStore({str(path)!r})
        store.upsert(CONGRESS)
        store.upsert(VILLAGES)
        os._exit(9)  # no close, no batch: as after kill -9
    """)
    result = subprocess.run([sys.executable, "-c", killed], cwd=Path(__file__).parent.parent,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 9, result.stderr
    with ArticleStore(path) as store:
        assert found(store, "dai hoi") == [CONGRESS["url"]]
        assert found(store, "nong thon moi") == [VILLAGES["url"]]
        assert index_entries(path) == rebuilt_entries(store)


def test_articles_changed_or_deleted_while_they_wait_are_indexed_as_they_are_then(tmp_path):
    path = tmp_path / "articles.sqlite3"
    with ArticleStore(path) as store:
        store.upsert(CONGRESS)
        store.upsert(VILLAGES)
        store.upsert(FOOTBALL)
        # A new version of a waiting article (REPLACE under a new rowid), another edited by
        # hand, a third deleted: none indexed yet.
        store.upsert({**VILLAGES, "body": "Cánh đồng mẫu lớn ở Giao Thủy.",
                      "content_hash": "sha256:v2"})
        store._db.execute("UPDATE articles SET title = 'Sân Thiên Trường mở cửa' "
                          "WHERE canonical_url = ?", (FOOTBALL["url"],))
        store._db.execute("DELETE FROM articles WHERE canonical_url = ?", (CONGRESS["url"],))
        store._db.commit()
    with ArticleStore(path) as store:
        assert found(store, "canh dong mau lon") == [VILLAGES["url"]]
        assert found(store, "duong lang") == []
        assert found(store, "san thien truong mo cua") == [FOOTBALL["url"]]
        assert found(store, "thep xanh") == []
        assert found(store, "dai hoi") == []
        assert index_entries(path) == rebuilt_entries(store)


# The insert trigger of the stores written before batching: each row indexed on its own.
_UNBATCHED_INSERT = f"""
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, lead, body)
    VALUES (new.rowid, {fulltext.fold_sql("new.title")}, {fulltext.fold_sql("new.lead")},
            {fulltext.fold_sql("new.body")});
END
"""


def test_a_store_indexed_row_by_row_gets_batches_on_opening(tmp_path):
    path = tmp_path / "articles.sqlite3"
    with ArticleStore(path) as store:
        store.upsert(CONGRESS)
    with sqlite3.connect(path) as db:  # as the version before batching left it
        db.execute("DROP TRIGGER articles_fts_insert")
        db.execute("DROP TABLE articles_fts_pending")
        db.execute(_UNBATCHED_INSERT)
    with ArticleStore(path, readonly=True) as store:  # a reader may not upgrade it: it reads it
        assert found(store, "dai hoi") == [CONGRESS["url"]]
    with ArticleStore(path) as store:
        [(trigger,)] = store._db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'articles_fts_insert'").fetchall()
        assert "articles_fts_pending" in trigger
        store.upsert(VILLAGES)
        assert found(store, "dai hoi") == [CONGRESS["url"]]
        assert found(store, "nong thon moi") == [VILLAGES["url"]]
        assert index_entries(path) == rebuilt_entries(store)


def test_the_index_is_declared_as_datasette_looks_for_it(sqlite_store):
    store = sqlite_store
    # Datasette offers full-text search on `articles` when a virtual table declares
    # content="articles" (double quotes: its detect_fts matches the text of the declaration).
    [(name,)] = store._db.execute(
        "SELECT name FROM sqlite_master WHERE rootpage = 0 "
        "AND sql LIKE '%VIRTUAL TABLE%USING FTS%content=\"articles\"%'").fetchall()
    assert name == "articles_fts"


def test_the_postgresql_index_follows_new_versions_updates_and_deletes(postgres):
    url = postgres.database()
    with three_articles(url) as store:
        store.upsert({**VILLAGES, "body": "Cánh đồng mẫu lớn ở Giao Thủy.",
                      "content_hash": "sha256:v2"})
        assert found(store, "canh dong mau lon") == [VILLAGES["url"]]
        assert found(store, "duong lang") == []
    # Anyone's SQL keeps it in step too: it is an index on the folded text.
    import psycopg

    with psycopg.connect(url) as db:
        db.execute("UPDATE articles SET title = 'Giao Thủy mùa lúa' WHERE canonical_url = %s",
                   (VILLAGES["url"],))
        db.execute("DELETE FROM articles WHERE canonical_url = %s", (CONGRESS["url"],))
    with ArticleStore(url) as store:
        assert found(store, "nong thon moi") == []
        assert found(store, "giao thuy") == [VILLAGES["url"]]
        assert found(store, "dai hoi") == []
        assert found(store, "title: giao") == [VILLAGES["url"]]
        assert found(store, "body: giao") == [VILLAGES["url"]]
        assert found(store, "lead: giao") == []
        rebuild_index(store._db)
        assert found(store, "thien truong") == [FOOTBALL["url"]]
