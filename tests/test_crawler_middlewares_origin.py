"""The origin guard: requests to other origins are dropped and counted; redirects and start URLs
are reported too."""

from __future__ import annotations

import logging

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.extensions.failures import url_failed
from crawler.middlewares.origin import OriginGuardMiddleware
from spiders.baonamdinh import BaoNamDinhSpider

MIRROR = "http://127.0.0.1:8765"
ARTICLE = "/channel/5085/202002/khoi-thi-dua-2536418/"


@pytest.fixture()
def guard(tmp_path):
    crawler = get_crawler(BaoNamDinhSpider, settings_dict={"ARCHIVE_DIR": str(tmp_path)})
    crawler.spider = crawler._create_spider(base_url=MIRROR + "/")
    middleware = build_from_crawler(OriginGuardMiddleware, crawler)
    middleware.spider_opened(crawler.spider)
    middleware.reported = []
    crawler.signals.connect(lambda **kw: middleware.reported.append(kw), signal=url_failed,
                            weak=False)
    return middleware


def stat(guard, name: str):
    return guard.crawler.stats.get_value(name)


def test_requests_on_the_origin_pass(guard):
    assert guard.request_scheduled(Request(MIRROR + ARTICLE)) is None
    assert guard.process_request(Request(MIRROR + "/robots.txt")) is None
    assert stat(guard, "offsite/links") is None


def test_links_to_other_origins_are_dropped_and_counted_not_reported(guard, caplog):
    caplog.set_level(logging.INFO)
    for url in ("http://127.0.0.1:8766" + ARTICLE, "http://127.0.0.1:8766/a.jpg",
                "http://localhost:8765" + ARTICLE, "https://127.0.0.1:8765" + ARTICLE):
        with pytest.raises(IgnoreRequest):
            guard.request_scheduled(Request(url))
    assert (stat(guard, "offsite/links"), stat(guard, "offsite/origins")) == (4, 3)
    assert guard.reported == []
    assert caplog.text.count("Not following links to http://127.0.0.1:8766") == 1


def test_a_start_url_elsewhere_is_reported(guard):
    with pytest.raises(IgnoreRequest):
        guard.request_scheduled(Request("http://127.0.0.2:8765/", meta={"is_start_request": True}))
    assert [(r["url"], r["reason"]) for r in guard.reported] == [("http://127.0.0.2:8765/",
                                                                  "offsite")]
    assert stat(guard, "offsite/start") == 1


def test_a_redirect_elsewhere_is_reported_against_the_url_that_redirected(guard):
    # What RedirectMiddleware (Location) and MetaRefreshMiddleware hand back to the scheduler.
    target = Request("https://baonamdinh.vn" + ARTICLE,
                     meta={"redirect_urls": [MIRROR + ARTICLE], "redirect_times": 1})
    with pytest.raises(IgnoreRequest):
        guard.request_scheduled(target)
    (report,) = guard.reported
    assert (report["url"], report["reason"]) == (MIRROR + ARTICLE, "offsite_redirect")
    assert "https://baonamdinh.vn" + ARTICLE in report["detail"]
    assert stat(guard, "offsite/redirects") == 1


def test_robots_txt_of_another_origin_is_never_fetched(guard):
    with pytest.raises(IgnoreRequest, match="offsite"):
        guard.process_request(Request("http://127.0.0.1:8766/robots.txt"))
    assert stat(guard, "offsite/downloads") == 1


def test_a_spider_without_origins_is_held_to_its_allowed_domains():
    crawler = get_crawler()
    middleware = build_from_crawler(OriginGuardMiddleware, crawler)

    class Spider:
        allowed_domains = ["Example.vn"]

    middleware.spider_opened(Spider())
    assert middleware.request_scheduled(Request("https://www.example.vn/")) is None
    with pytest.raises(IgnoreRequest):
        middleware.request_scheduled(Request("http://example.vn:8080/"))
