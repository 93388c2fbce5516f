"""The asset ledger on a real article store: what is owed, the retry rule, old stores upgraded."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from spiders.assets import ARCHIVED_BATCH, AssetLedger, retry_delay
from storage.articles import ArticleStore
from storage.warc_digests import DigestIndex, OriginalCapture

SITE = "baonamdinh"
T0 = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def ledger(tmp_path, clock):
    ledger = AssetLedger(ArticleStore(tmp_path / "articles.sqlite3"), SITE, 4, clock)
    yield ledger
    ledger.close()


def test_retry_delays_double_after_one_free_retry():
    hour = timedelta(hours=1)
    assert [retry_delay(n) + (hour if n > 1 else timedelta(0)) for n in range(1, 7)] == [
        timedelta(days=days) for days in (0, 1, 2, 4, 8, 16)]


def test_an_article_s_images_are_owed_until_archived_and_never_requested_again(ledger):
    urls = ["https://x.vn/a.jpg", "https://x.vn/b.jpg"]
    assert ledger.expect("https://x.vn/article-1/", urls) == urls
    assert list(ledger.owed()) == urls
    ledger.archived("https://x.vn/a.jpg", {"filename": "f.warc.gz", "offset": 0})
    assert list(ledger.owed()) == ["https://x.vn/b.jpg"]
    # Another article (or a refetch of the same) showing an archived image does not request it.
    assert ledger.expect("https://x.vn/article-2/", urls) == ["https://x.vn/b.jpg"]
    state = ledger.store.asset("https://x.vn/a.jpg")
    assert (state.status, state.article) == ("archived", "https://x.vn/article-1/")
    assert json.loads(state.warc) == {"filename": "f.warc.gz", "offset": 0}


def test_archived_images_are_written_in_batches_and_a_crash_only_costs_refetches(tmp_path, clock):
    path = tmp_path / "articles.sqlite3"
    urls = [f"https://x.vn/{n}.jpg" for n in range(ARCHIVED_BATCH + 3)]
    ledger = AssetLedger(ArticleStore(path), SITE, 4, clock)
    ledger.expect("https://x.vn/article/", urls)
    for url in urls:
        ledger.archived(url, {"filename": "f.warc.gz", "offset": 0})
    # As after kill -9: nothing more is written. A full batch is in the store; the images after
    # it are still owed (fetched again by the next crawl), none is lost.
    ledger.store._db.close()
    with ArticleStore(path) as store:
        states = {url: store.asset(url).status for url in urls}
    assert [url for url, status in states.items() if status == "archived"] == urls[:ARCHIVED_BATCH]
    assert [url for url, status in states.items() if status == "pending"] == urls[ARCHIVED_BATCH:]
    # Closed as a crawl ends, the ledger writes what it held back.
    ledger = AssetLedger(ArticleStore(path), SITE, 4, clock)
    for url in urls[ARCHIVED_BATCH:]:
        ledger.archived(url, {"filename": "f.warc.gz", "offset": 1})
    ledger.close()
    with ArticleStore(path) as store:
        assert {store.asset(url).status for url in urls} == {"archived"}
        assert list(AssetLedger(store, SITE, 4, clock).owed()) == []


def test_a_failed_image_is_retried_with_a_doubling_delay_then_given_up(ledger, clock):
    url = "https://x.vn/gone.jpg"
    ledger.expect("https://x.vn/article/", [url])
    outcomes = []
    for attempt in range(1, 5):
        assert list(ledger.owed()) == [url], attempt
        outcomes.append(ledger.failed(url, "http_404"))
        if attempt < 4:
            delay = retry_delay(attempt)
            if delay:
                # Not owed (and not requested with its article) a second before its retry time.
                clock.now += delay - timedelta(seconds=1)
                assert list(ledger.owed()) == []
                assert ledger.expect("https://x.vn/article/", [url]) == []
                clock.now += timedelta(seconds=1)
    assert outcomes[0] == "attempt 1 of 4: retried from 2026-03-01T02:00:00+00:00"
    assert outcomes[-1] == "attempt 4 of 4: given up"
    clock.now += timedelta(days=3650)
    assert list(ledger.owed()) == []
    assert ledger.expect("https://x.vn/article/", [url]) == []
    state = ledger.store.asset(url)
    assert (state.status, state.attempts, state.reason) == ("given_up", 4, "http_404")


def test_owed_assets_are_read_in_pages_through_the_partial_index(tmp_path):
    with ArticleStore(tmp_path / "articles.sqlite3") as store:
        urls = [f"https://x.vn/{n:03}.jpg" for n in range(7)]
        store.expect_assets(SITE, "https://x.vn/a/", urls)
        store.expect_assets("other", "https://y.vn/a/", ["https://y.vn/1.jpg"])
        store.record_asset_archived(urls[3], SITE, "2026-01-01T00:00:00+00:00", {})
        owed = [state.url for state in store.owed_assets(SITE, "2026-01-01", page=2)]
        assert owed == urls[:3] + urls[4:]
        plan = " ".join(row[-1] for row in store._db.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM assets WHERE site = ? AND status IN "
            "('pending', 'failed', 'unverified') AND url > ? ORDER BY url LIMIT 2", (SITE, "")))
    assert "USING INDEX assets_owed" in plan, plan


def old_store(path) -> None:
    """A store as written before assets were tracked: articles with images, no assets table."""
    with ArticleStore(path) as store:
        for n in range(3):
            store.upsert({
                "url": f"https://x.vn/a-{n}/", "site": SITE, "title": "t", "body": "b",
                "content_hash": str(n),
                "images": [{"src": f"https://x.vn/{n}-{i}.jpg", "caption": None, "credit": None}
                           for i in range(n)],
            })
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE assets")


def test_a_store_from_before_assets_opens_with_its_images_unverified(tmp_path):
    path = tmp_path / "articles.sqlite3"
    old_store(path)
    with ArticleStore(path) as store:
        assert store.count() == 3
        assert store.count_assets() == {"unverified": 3}
        assert store.asset("https://x.vn/2-1.jpg").article == "https://x.vn/a-2/"
        assert store.has_unverified_assets(SITE)
    with ArticleStore(path) as store:  # opened again: nothing seeded twice
        assert store.count_assets() == {"unverified": 3}


def test_unverified_images_found_in_the_digest_index_count_as_archived(tmp_path, clock):
    path = tmp_path / "articles.sqlite3"
    old_store(path)
    index = DigestIndex(tmp_path / "digests.sqlite3")
    index.add_many([
        OriginalCapture(digest, f"<urn:uuid:{digest}>", uri, "2026-01-01", "f.warc.gz")
        for digest, uri in (("sha1:A", "https://x.vn/2-0.jpg"), ("sha1:B", "https://x.vn/a-0/"))
    ])
    index.close()
    ledger = AssetLedger(ArticleStore(path), SITE, 4, clock)
    ledger.verify(tmp_path / "digests.sqlite3")
    assert ledger.store.count_assets() == {"archived": 1, "pending": 2}
    assert sorted(ledger.owed()) == ["https://x.vn/1-0.jpg", "https://x.vn/2-1.jpg"]
    assert not ledger.store.has_unverified_assets(SITE)
    ledger.close()


def test_without_a_store_nothing_is_tracked_and_everything_fetched():
    ledger = AssetLedger()
    assert not ledger.active
    assert ledger.expect("https://x.vn/a/", ["https://x.vn/1.jpg"]) == ["https://x.vn/1.jpg"]
    assert list(ledger.owed()) == []
    assert ledger.failed("https://x.vn/1.jpg", "http_404") == ""
