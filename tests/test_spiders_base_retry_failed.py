"""Articles that failed are tried again by later crawls, with a backoff, until they are stored.

Two old articles (in the oldest monthly sitemap, far from the feed and the first listing pages)
fail in the first crawl: one is a 50 MB page (refused, ``too_large``), the other answers 500 more
often than the crawler retries (``http_500``). Later crawls skip the unchanged monthly sitemaps, so
only the store's list of failed articles brings them back: the fixed page is stored by the next
crawl; the one still failing is tried again, then waits a day before its next try.
"""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import urlsplit

import pytest

from tests.conftest import run_crawl
from tests.replica.content import build_site
from tests.replica.pages import HOME_ITEMS, LISTING_PAGE_SIZE, RSS_HOME_ITEMS
from tests.replica.process import ReplicaProcess

ARTICLES = 100
SITE = build_site(articles=ARTICLES)
# Linked from the feed, the home page or the first page of a section listing: a later crawl finds
# these again without any list of failures.
SHOWN = {a.path for a in SITE.articles[:max(RSS_HOME_ITEMS, HOME_ITEMS)]} | {
    a.path for s in SITE.sections for a in SITE.articles_in_section(s)[:LISTING_PAGE_SIZE]
}
TOO_LARGE, SERVER_ERROR = [a.path for a in reversed(SITE.articles) if a.path not in SHOWN][:2]
FAULTS = [f"huge@^{re.escape(TOO_LARGE)}$", f"500@^{re.escape(SERVER_ERROR)}$"]
# The 500 outlasts a crawl's retries (RETRY_TIMES 3: 4 requests) and the next crawl's too.
BURST = 10


def failed_articles(db) -> dict[str, tuple[str, int]]:
    """The store's failed articles: path -> (reason, failure count)."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT url, reason, failures FROM failed_articles").fetchall()
    return {urlsplit(url).path: (reason, count) for url, reason, count in rows}


def stored(db) -> set[str]:
    with sqlite3.connect(db) as connection:
        return {urlsplit(row[0]).path for row in connection.execute("SELECT url FROM articles")}


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    """Three crawls: both faults on; the 50 MB page fixed; the 500s fixed too."""
    archive = tmp_path_factory.mktemp("retry-failed")
    runs = []
    with ReplicaProcess(articles=ARTICLES) as portal:
        for faults in (FAULTS, FAULTS[1:], []):
            portal.set_faults(faults, burst=BURST)
            portal.reset_stats()
            run = run_crawl(portal.origin, archive)
            assert run.returncode == 0, run.log[-3000:]
            runs.append((run.summary, portal.stats()["requests"], failed_articles(run.db),
                         stored(run.db)))
    return runs


def test_failed_articles_are_recorded_with_reason_and_count(crawls):
    summary, _, failed, stored_paths = crawls[0]
    assert failed == {TOO_LARGE: ("too_large", 1), SERVER_ERROR: ("http_500", 1)}
    assert stored_paths == {a.path for a in SITE.articles} - {TOO_LARGE, SERVER_ERROR}
    assert summary["status"] == "complete"
    assert summary["retries"]["pending"] == 2


def test_the_next_crawl_tries_them_again_and_stores_the_fixed_one(crawls):
    summary, requests, failed, stored_paths = crawls[1]
    assert summary["sitemaps_skipped_unchanged"] > 0  # the retry list alone brings them back
    assert requests[TOO_LARGE] == 1
    assert TOO_LARGE in stored_paths
    assert failed == {SERVER_ERROR: ("http_500", 2)}
    assert summary["retries"] == {
        "requested": 2, "recovered": 1, "failed_again": 1, "new": 0, "pending": 1,
        "pending_by_reason": {"http_500": 1},
    }


def test_an_article_failing_again_waits_before_its_next_try(crawls):
    summary, requests, failed, stored_paths = crawls[2]
    assert SERVER_ERROR not in requests  # its second failure put the next try a day later
    assert SERVER_ERROR not in stored_paths
    assert failed == {SERVER_ERROR: ("http_500", 2)}
    assert summary["retries"]["requested"] == 0 and summary["retries"]["pending"] == 1
