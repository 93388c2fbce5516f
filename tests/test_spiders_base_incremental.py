"""Incremental crawls of the replica: a recrawl fetches only what the portal says is new or changed.

Each test module runs its own replica (it switches editions) and counts requests at the server.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from storage.articles import ArticleStore
from tests.conftest import run_crawl
from tests.replica.content import EDITION_ADDED, EDITION_CHANGED, build_site
from tests.replica.process import ReplicaProcess

ARTICLES = 80
ARTICLE_PATH = re.compile(r"^/channel/\d+/\d{6}/[^/]+-\d+/$")


def article_requests(stats: dict) -> dict[str, int]:
    """Requests of article pages, by path, in the replica's counts."""
    return {path: n for path, n in stats["requests"].items() if ARTICLE_PATH.match(path)}


@pytest.fixture(scope="module")
def portal():
    with ReplicaProcess(articles=ARTICLES) as process:
        yield process


@pytest.fixture(scope="module")
def crawls(portal, tmp_path_factory):
    """Four crawls into one archive: first, unchanged, next edition, forced full recrawl."""
    archive = tmp_path_factory.mktemp("incremental")
    runs = {}

    def crawl(name: str, **settings: str) -> None:
        run = run_crawl(portal.origin, archive, **settings)
        assert run.returncode == 0, run.log[-3000:]
        # Each crawl rewrites last-crawl.json: keep this one's summary.
        runs[name] = (run.summary, portal.stats())

    for name in ("first", "unchanged"):
        portal.reset_stats()
        crawl(name)
    portal.set_edition(2)
    crawl("edition")
    portal.reset_stats()
    crawl("full", INCREMENTAL="False")
    return archive, runs


def test_first_crawl_stores_every_article(crawls):
    (summary, stats) = crawls[1]["first"]
    assert summary["articles_new"] == ARTICLES
    assert len(article_requests(stats)) == ARTICLES


def test_recrawl_of_an_unchanged_portal_fetches_no_article_again(crawls):
    summary, stats = crawls[1]["unchanged"]
    assert article_requests(stats) == {}
    assert not any(path.startswith("/uploads/") for path in stats["requests"])
    assert summary["articles_stored"] == 0
    assert summary["skipped_by_reason"] == {"known": ARTICLES}
    # Discovery only: robots, sitemap index, feed, home and the first page of each section.
    assert stats["total"] <= 15, stats["requests"]


def test_after_an_edition_only_the_changed_and_new_articles_are_fetched(crawls):
    archive, runs = crawls
    summary, stats = runs["edition"]
    before, after = build_site(articles=ARTICLES), build_site(articles=ARTICLES, edition=2)
    old = {a.path: a for a in before.articles}
    new_paths = {a.path for a in after.articles if a.path not in old}
    changed = {
        a.path for a in after.articles
        if a.path in old and a.paragraphs != old[a.path].paragraphs
    }
    assert (len(new_paths), len(changed)) == (EDITION_ADDED, EDITION_CHANGED)
    assert article_requests(stats) == {path: 1 for path in new_paths | changed}
    assert summary["articles_new"] == EDITION_ADDED
    assert summary["articles_updated"] == EDITION_CHANGED
    with ArticleStore(archive / "articles.sqlite3") as store:
        for path in changed:
            versions = store.versions(origin_of(store) + path)
            assert [v["version"] for v in versions] == [1, 2]
            assert versions[1]["body"].startswith(versions[0]["body"])
            assert versions[1]["body"] != versions[0]["body"]


def origin_of(store: ArticleStore) -> str:
    url = next(iter(store.iter_articles()))["url"]
    return re.match(r"https?://[^/]+", url)[0]


def test_incremental_off_fetches_everything_and_changes_nothing(crawls):
    summary, stats = crawls[1]["full"]
    assert len(article_requests(stats)) == ARTICLES + EDITION_ADDED
    assert summary["articles_unchanged"] == ARTICLES + EDITION_ADDED
    assert summary["articles_new"] == summary["articles_updated"] == 0


def test_a_known_article_the_sitemap_calls_changed_is_revalidated_and_304_not_reparsed(
    portal, tmp_path
):
    run = run_crawl(portal.origin, tmp_path)
    assert run.returncode == 0, run.log[-3000:]
    # Pretend the store last saw three articles long ago: the sitemap's lastmod is newer.
    with sqlite3.connect(tmp_path / "articles.sqlite3") as db:
        urls = [row[0] for row in db.execute("SELECT url FROM articles ORDER BY url LIMIT 3")]
        db.executemany(
            "UPDATE fetch_state SET lastmod = '2001-01-01T00:00:00+00:00', "
            "last_modified = NULL WHERE url = ?", [(url,) for url in urls],
        )
        # …and the monthly sitemaps too, so they are read again.
        db.execute("UPDATE fetch_state SET lastmod = NULL WHERE url LIKE '%/sitemaps/%'")
    portal.reset_stats()
    run = run_crawl(portal.origin, tmp_path)
    assert run.returncode == 0, run.log[-3000:]
    summary = run.summary
    paths = {re.sub(r"^https?://[^/]+", "", url) for url in urls}
    assert article_requests(portal.stats()) == {path: 1 for path in paths}
    assert summary["articles_stored"] == 0  # every answer was 304: nothing re-parsed
    assert summary["http_status"] == {"200": summary["pages_fetched"] - 3, "304": 3}
