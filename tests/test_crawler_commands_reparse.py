"""``scrapy reparse``: archived articles parsed again, offline, into the store.

A small replica is crawled with a required field no article has, so the crawl archives every
page but stores none (as a parser bug would); reparse then stores them all from the WARC files.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from storage.articles import ArticleStore
from tests.conftest import run_crawl, scrapy
from tests.encoded_warc import archive_articles
from tests.replica.content import build_site
from tests.replica.process import ReplicaProcess

ARTICLES = 12


def reparse(archive: Path, *args: str):
    return scrapy("reparse", "baonamdinh", *args, "-s", f"ARCHIVE_DIR={archive}")


@pytest.fixture(scope="module")
def tiny_replica():
    with ReplicaProcess(articles=ARTICLES) as replica:
        yield replica


def test_reparse_recovers_dropped_articles_and_versions_changed_ones(tiny_replica, tmp_path):
    archive = tmp_path / "archive"
    crawl = run_crawl(tiny_replica.origin, archive,
                      ARTICLES_REQUIRED_FIELDS="title,body,no_such_field")
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert crawl.summary["articles_dropped"] == ARTICLES

    dry = reparse(archive, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"{ARTICLES} parsed; nothing written (dry run)" in dry.stdout
    with ArticleStore(archive / "articles.sqlite3") as store:
        assert store.count() == 0

    first = reparse(archive)
    assert first.returncode == 0, first.stderr
    assert f"Reparsed {ARTICLES} archived baonamdinh articles" in first.stdout
    assert f"{ARTICLES} new" in first.stdout
    by_path = {article.path: article for article in build_site(articles=ARTICLES).articles}
    with ArticleStore(archive / "articles.sqlite3") as store:
        records = list(store.iter_articles())
    assert len(records) == ARTICLES
    for record in records:
        article = by_path[record["url"].removeprefix(tiny_replica.origin)]
        assert record["title"] == article.title
        assert record["published"] == article.published_iso
        # The pointer leads to the response record the article was parsed from.
        pointer = record["warc"]
        with open(archive / "warc" / pointer["filename"], "rb") as stream:
            stream.seek(pointer["offset"])
            archived = next(iter(ArchiveIterator(stream)))
            assert archived.rec_headers.get_header("WARC-Record-ID") == pointer["record_id"]
            assert archived.rec_headers.get_header("WARC-Target-URI") == record["url"]
        # Fetched when the page was captured, in the crawl's format.
        captured = archived.rec_headers.get_header("WARC-Date")
        assert record["fetched"] == captured[:19] + "+00:00"

    # As if an older extractor had stored a wrong title: reparse makes a new version.
    changed = records[0]["canonical_url"]
    with sqlite3.connect(archive / "articles.sqlite3") as db:
        db.execute("UPDATE articles SET title = 'cũ', content_hash = 'sha256:old' "
                   "WHERE canonical_url = ?", (changed,))
    second = reparse(archive)
    assert second.returncode == 0, second.stderr
    assert f"{ARTICLES - 1} unchanged, 1 updated" in second.stdout
    with ArticleStore(archive / "articles.sqlite3") as store:
        assert store.get(changed)["title"] == by_path[
            store.get(changed)["url"].removeprefix(tiny_replica.origin)].title
        assert [version["version"] for version in store.versions(changed)] == [1, 2]


def test_reparse_says_what_is_missing(tmp_path):
    empty = reparse(tmp_path)
    assert empty.returncode == 2 and "no archived baonamdinh article" in empty.stderr
    unknown = scrapy("reparse", "nosuchsite", "-s", f"ARCHIVE_DIR={tmp_path}")
    assert unknown.returncode == 2 and "unknown site 'nosuchsite'" in unknown.stderr


def test_reparse_reads_every_content_encoding_and_skips_bombs(tmp_path):
    # One archived article per Content-Encoding the crawl accepts, and a decompression bomb
    # per compressing coding, inflating to 4 MB where DOWNLOAD_MAXSIZE allows 1 MB.
    archive = tmp_path / "archive"
    archived = archive_articles(archive / "warc", "https://baonamdinh.vn", bomb_size=4_000_000)
    pages = [entry for entry in archived if entry.article is not None]
    bombs = [entry for entry in archived if entry.article is None]

    result = reparse(archive, "-s", "DOWNLOAD_MAXSIZE=1048576")
    assert result.returncode == 0, result.stderr
    assert f"{len(pages)} new, {len(bombs)} skipped" in result.stdout, result.stdout
    for entry in bombs:
        line = next(line for line in result.stdout.splitlines() if entry.url in line)
        assert entry.pointer.record_id in line and entry.pointer.filename in line, line
        assert "DOWNLOAD_MAXSIZE (1048576 bytes)" in line, line
    with ArticleStore(archive / "articles.sqlite3") as store:
        stored = {record["url"]: record for record in store.iter_articles()}
    assert set(stored) == {entry.url for entry in pages}
    for entry in pages:
        assert stored[entry.url]["title"] == entry.article.title, entry.encoding
        assert stored[entry.url]["body"] == "\n\n".join(entry.article.paragraphs), entry.encoding
