"""The portal spider's incremental decisions, from a real article store (no crawl)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.extensions.jobstate import CrawlJobState, read_marker, write_marker
from crawler.parsing.article import content_hash
from spiders.baonamdinh import BaoNamDinhSpider
from storage.articles import ArticleStore, FetchState

BASE = "http://127.0.0.1:8765"
KNOWN = BASE + "/channel/5085/202002/khoi-thi-dua-2536418/"
NEW = BASE + "/channel/5085/202003/tin-moi-2536999/"


class NoSitemapSpider(BaoNamDinhSpider):
    """The same portal as if it published no sitemap."""

    name = "nositemap"
    profile = dataclasses.replace(BaoNamDinhSpider.profile, sitemap_urls=())


def make_spider(tmp_path, spider_class=BaoNamDinhSpider, load=True, crawler=None, **settings):
    with ArticleStore(tmp_path / "articles.sqlite3") as store:
        record = {"url": KNOWN, "site": "baonamdinh", "title": "T", "body": "B",
                  "published": "2020-02-12T19:29:00+07:00", "fetched": "2026-11-01T00:00:00+00:00"}
        store.upsert({**record, "content_hash": content_hash(record)})
        store.record_fetch(FetchState(KNOWN, 200, '"abc"', "Wed, 12 Feb 2020 12:29:00 GMT",
                                      "2020-02-12T19:29:00+07:00", "2026-11-01T00:00:00+00:00"))
        store.start_run("r1", spider_class.name, "2026-11-01T00:00:00+00:00")
        store.finish_run("r1", "2026-11-01T01:00:00+00:00", "finished", "complete", complete=True)
    crawler = crawler or get_crawler(spider_class,
                                     {"ARCHIVE_DIR": str(tmp_path), "JOBDIR": "", **settings})
    spider = spider_class.from_crawler(crawler, base_url=BASE)
    crawler.stats.open_spider()
    if load:
        spider.load_history()
    return spider


def test_new_articles_are_fetched_and_known_ones_skipped(tmp_path):
    spider = make_spider(tmp_path)
    assert spider.article_request(NEW, "listing").headers == {}
    assert spider.article_request(KNOWN, "listing") is None
    assert spider.article_request(KNOWN, "sitemap", "2020-02-12T19:29:00+07:00") is None
    assert spider.crawler.stats.get_value("articles/skipped/known") == 1


def test_a_newer_sitemap_lastmod_revalidates_conditionally(tmp_path):
    spider = make_spider(tmp_path)
    request = spider.article_request(KNOWN, "sitemap", "2020-03-01T08:00:00+07:00")
    assert request.headers["If-None-Match"] == b'"abc"'
    assert request.headers["If-Modified-Since"] == b"Wed, 12 Feb 2020 12:29:00 GMT"
    assert request.meta["handle_httpstatus_list"] == [304]
    response = HtmlResponse(KNOWN, status=304, request=request)
    assert list(spider.parse_article(response) or []) == []
    assert spider.crawler.stats.get_value("articles/not_modified") == 1


def test_without_sitemaps_known_articles_are_revalidated_conditionally(tmp_path):
    spider = make_spider(tmp_path, NoSitemapSpider)
    request = spider.article_request(KNOWN, "listing")
    assert request is not None and request.headers["If-None-Match"] == b'"abc"'


def test_incremental_off_fetches_known_articles_plainly(tmp_path):
    spider = make_spider(tmp_path, INCREMENTAL=False)
    request = spider.article_request(KNOWN, "listing")
    assert request is not None and request.headers == {}


def listing(url: str, links: list[str], next_page: str | None) -> HtmlResponse:
    items = "".join(f'<div class="item"><a class="title" href="{u}">x</a></div>' for u in links)
    paging = ""
    if next_page:
        paging = f'<div class="paging"><a class="next" href="{next_page}">›</a></div>'

    body = f'<div class="list-news">{items}</div>{paging}'.encode()
    return HtmlResponse(url, body=body, encoding="utf-8", request=Request(url))


@pytest.mark.parametrize(
    ("links", "pages_on"), [([KNOWN], False), ([KNOWN, NEW], True)]
)
def test_paging_stops_at_a_page_of_known_old_articles(tmp_path, links, pages_on):
    spider = make_spider(tmp_path)
    output = list(spider.parse_listing(listing(BASE + "/channel/5085/", links, "page/2/"), 1))
    follows = [r for r in output if r.callback == spider.parse_listing]
    assert bool(follows) is pages_on


def test_a_listing_that_repeats_an_earlier_page_ends_paging(tmp_path):
    spider = make_spider(tmp_path, INCREMENTAL=False)
    first = list(spider.parse_listing(listing(BASE + "/channel/5085/", [NEW], "page/2/"), 1))
    again = list(spider.parse_listing(listing(BASE + "/channel/5085/page/2/", [NEW], "page/3/"), 2))
    assert any(r.callback == spider.parse_listing for r in first)
    assert again == []
    assert spider.crawler.stats.get_value("listings/stopped/repeated") == 1


@pytest.mark.parametrize(("next_page", "followed"), [
    ("page/2/", True),
    # A "next" link into a search or a tag's pages: not the portal's paging, and endless.
    ("/tim-kiem/?q=nam-dinh&page=2", False),
    ("/tag/nam-dinh/page/2/", False),
])
def test_paging_follows_only_next_pages_matching_the_listing_pattern(tmp_path, next_page,
                                                                     followed):
    spider = make_spider(tmp_path, INCREMENTAL=False)
    output = list(spider.parse_listing(listing(BASE + "/channel/5085/", [NEW], next_page), 1))
    assert any(r.callback == spider.parse_article for r in output)
    follows = [r for r in output if r.callback == spider.parse_listing]
    assert bool(follows) is followed
    stopped = spider.crawler.stats.get_value("listings/stopped/off_pattern")
    assert stopped == (None if followed else 1)


@pytest.mark.parametrize("marker_rewritten_first", [True, False])
def test_a_full_recrawl_after_a_crash_skips_what_the_killed_crawl_stored(
    tmp_path, marker_rewritten_first
):
    """The crash window comes from the job directory as the killed crawl left it, whether the
    history is read before or after the job-state extension rewrites its marker."""
    jobdir = tmp_path / "job"
    jobdir.mkdir()
    # The killed crawl started before KNOWN was stored (make_spider stores it 2026-11-01).
    write_marker(jobdir, {"state": "running", "started": "2026-10-31T23:00:00+00:00"})
    crawler = get_crawler(BaoNamDinhSpider, {"ARCHIVE_DIR": str(tmp_path), "JOBDIR": str(jobdir),
                                            "INCREMENTAL": False})
    spider = make_spider(tmp_path, load=False, crawler=crawler)
    jobstate = build_from_crawler(CrawlJobState, crawler)
    if marker_rewritten_first:
        jobstate.spider_opened()
        spider.load_history()
    else:
        spider.load_history()
        jobstate.spider_opened()
    assert read_marker(jobdir)["interrupted_since"] == "2026-10-31T23:00:00+00:00"
    assert spider.article_request(KNOWN, "listing") is None
    assert spider.article_request(NEW, "listing") is not None


def test_another_sites_articles_at_the_same_urls_are_not_known(tmp_path):
    """Every profile of the replica is served on one origin: URLs alone do not tell sites apart."""
    with ArticleStore(tmp_path / "articles.sqlite3") as store:
        record = {"url": NEW, "site": "othersite", "title": "T", "body": "Other",
                  "published": "2020-03-01T08:00:00+07:00", "fetched": "2026-11-01T00:00:00+00:00"}
        store.upsert({**record, "content_hash": content_hash(record)})
    spider = make_spider(tmp_path)
    request = spider.article_request(NEW, "sitemap", "2020-03-01T08:00:00+07:00")
    assert request is not None and request.headers == {}
    assert "warc_confirms" not in request.meta


def test_an_article_this_crawl_stores_is_not_known_to_it(tmp_path):
    """The history is what earlier crawls left, as when it was read whole at start-up: a page
    naming an article stored minutes ago as its canonical URL is still fetched."""
    spider = make_spider(tmp_path)
    canonical = BASE + "/channel/5085/202003/ban-in-2537000/"
    record = {"url": canonical + "?print=1", "canonical_url": canonical, "site": "baonamdinh",
              "title": "T", "body": "Mới", "published": "2020-03-02T08:00:00+07:00",
              "fetched": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    with ArticleStore(tmp_path / "articles.sqlite3") as store:
        store.upsert({**record, "content_hash": content_hash(record)})
    request = spider.article_request(canonical, "listing")
    assert request is not None and "warc_confirms" not in request.meta
    assert spider.crawler.stats.get_value("articles/skipped/known") is None
