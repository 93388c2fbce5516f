"""Scrapy's per-page DEBUG lines are built only when the crawl logs DEBUG, and are then Scrapy's."""

from __future__ import annotations

import pytest
from scrapy import Spider
from scrapy.http import HtmlResponse, Request
from scrapy.logformatter import LogFormatter
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.logformatter import CrawlLogFormatter


@pytest.mark.parametrize("line", ["crawled", "scraped"])
def test_per_page_lines_only_when_the_crawl_logs_debug(line):
    request = Request("http://127.0.0.1/channel/1/202001/bai-1/")
    response = HtmlResponse(request.url, request=request, body=b"<html></html>")
    first = request if line == "crawled" else {"title": "Bài 1"}
    spider = Spider("baonamdinh")
    scrapys = getattr(LogFormatter(), line)(first, response, spider)
    for settings, expected in [({"LOG_LEVEL": "INFO"}, None), ({"LOG_LEVEL": "WARNING"}, None),
                               ({"LOG_LEVEL": "DEBUG", "LOG_ENABLED": False}, None),
                               ({"LOG_LEVEL": "DEBUG"}, scrapys), ({"LOG_LEVEL": 10}, scrapys)]:
        formatter = build_from_crawler(CrawlLogFormatter, get_crawler(settings_dict=settings))
        assert getattr(formatter, line)(first, response, spider) == expected, settings
