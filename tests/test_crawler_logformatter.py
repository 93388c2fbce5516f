"""Scrapy's per-page DEBUG lines are built only when DEBUG is logged, and then are Scrapy's."""

from __future__ import annotations

import logging

import pytest
from scrapy import Spider
from scrapy.http import HtmlResponse, Request
from scrapy.logformatter import LogFormatter

from crawler.logformatter import CrawlLogFormatter


@pytest.mark.parametrize(("logger", "line"), [
    ("scrapy.core.engine", "crawled"), ("scrapy.core.scraper", "scraped")])
def test_per_page_lines_only_when_their_logger_shows_debug(logger, line):
    request = Request("http://127.0.0.1/channel/1/202001/bai-1/")
    response = HtmlResponse(request.url, request=request, body=b"<html></html>")
    first = request if line == "crawled" else {"title": "Bài 1"}
    ours, scrapys = getattr(CrawlLogFormatter(), line), getattr(LogFormatter(), line)
    spider = Spider("baonamdinh")
    target = logging.getLogger(logger)
    level = target.level
    try:
        target.setLevel(logging.INFO)
        assert ours(first, response, spider) is None  # Scrapy then logs nothing
        target.setLevel(logging.DEBUG)
        assert ours(first, response, spider) == scrapys(first, response, spider)
    finally:
        target.setLevel(level)
