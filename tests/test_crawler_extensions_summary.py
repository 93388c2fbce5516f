"""How a crawl is judged (complete, incomplete, failed…), and reports that outlive later crawls."""

from __future__ import annotations

import dataclasses
import json

import pytest
from scrapy import Request
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.extensions.failures import FailureReport
from crawler.extensions.jobstate import CrawlJobState
from crawler.extensions.summary import CrawlSummary, crawl_outcome
from spiders.baonamdinh import BaoNamDinhSpider

ANSWERED = {"downloader/request_count": 20, "downloader/response_status_count/200": 19,
            "robotstxt/response_status_count/200": 1}
DOWN = {"downloader/request_count": 44, "discovery/failed/connection_refused": 10}


@pytest.mark.parametrize(
    ("stats", "reason", "arguments", "status", "exit_code"),
    [
        (ANSWERED, "finished", {}, "complete", 0),
        (ANSWERED, "finished", {"since": "2020-02-01"}, "bounded", 0),
        (ANSWERED, "shutdown", {}, "interrupted", 0),
        ({**ANSWERED, "discovery/failed/http_500": 1}, "finished", {}, "incomplete", 3),
        # The portal was down: Scrapy says "finished".
        (DOWN, "finished", {}, "failed", 4),
        # Only robots.txt answered; every page after it failed.
        ({**DOWN, "downloader/response_status_count/200": 1,
          "robotstxt/response_status_count/200": 1}, "finished", {}, "failed", 4),
        # Every request (a resumed queue of articles) refused, no discovery in this run.
        ({"downloader/request_count": 12}, "finished", {}, "failed", 4),
        # Stopped (SIGTERM) before the first answer came: resumable, not failed.
        ({"downloader/request_count": 3}, "shutdown", {}, "interrupted", 0),
        # Failures before a graceful stop count in the resumed crawl.
        ({**ANSWERED, "discovery/failed_before_pause": 2}, "finished", {}, "incomplete", 3),
        ({"downloader/response_status_count/304": 3, "downloader/request_count": 3},
         "finished", {}, "complete", 0),
    ],
)
def test_a_crawl_is_complete_only_when_its_discovery_was_answered(
    stats, reason, arguments, status, exit_code
):
    spider = BaoNamDinhSpider(**arguments)
    outcome = crawl_outcome(stats, reason, spider)
    assert (outcome.status, outcome.exit_code) == (status, exit_code)
    assert outcome.complete is (status == "complete")


def test_discovery_requests_are_sitemaps_feeds_and_listings():
    spider = BaoNamDinhSpider()
    url = "https://baonamdinh.vn/x/"
    assert spider.is_discovery_request(Request(url, callback=spider.parse_sitemap))
    assert spider.is_discovery_request(Request(url, callback=spider.parse_feed))
    assert spider.is_discovery_request(
        Request(url, callback=spider.parse_listing, cb_kwargs={"page": 1}))
    # Beyond the first listing page, the sitemaps tell every article…
    assert not spider.is_discovery_request(
        Request(url, callback=spider.parse_listing, cb_kwargs={"page": 2}))
    assert not spider.is_discovery_request(Request(url, callback=spider.parse_article))

    class NoSitemaps(BaoNamDinhSpider):
        name = "nositemaps"
        profile = dataclasses.replace(BaoNamDinhSpider.profile, sitemap_urls=())

    # …and on a site without sitemaps every listing page is discovery.
    bare = NoSitemaps()
    assert bare.is_discovery_request(
        Request(url, callback=bare.parse_listing, cb_kwargs={"page": 7}))


def test_a_crawl_killed_after_opening_leaves_the_last_reports_alone(tmp_path):
    (tmp_path / "last-crawl.json").write_text('{"status": "complete"}\n')
    (tmp_path / "failures.jsonl").write_text('{"url": "http://x/old/"}\n')
    crawler = get_crawler(BaoNamDinhSpider, {"ARCHIVE_DIR": str(tmp_path)})
    crawler.spider = BaoNamDinhSpider()
    report = build_from_crawler(FailureReport, crawler)
    build_from_crawler(CrawlSummary, crawler).spider_opened()
    report.spider_opened()
    report.url_failed(url="http://x/new/", reason="timeout")
    # kill -9 here: no spider_closed.
    assert (tmp_path / "last-crawl.json").read_text() == '{"status": "complete"}\n'
    assert (tmp_path / "failures.jsonl").read_text() == '{"url": "http://x/old/"}\n'
    [folder] = (tmp_path / "reports").iterdir()
    assert folder.name.startswith("baonamdinh-")
    assert json.loads((folder / "failures.jsonl").read_text())["url"] == "http://x/new/"


def test_each_crawl_keeps_its_report_and_the_latest_is_copied(tmp_path):
    folders = []
    for number in (1, 2):
        crawler = get_crawler(BaoNamDinhSpider, {"ARCHIVE_DIR": str(tmp_path)})
        crawler.spider = spider = BaoNamDinhSpider()
        report = build_from_crawler(FailureReport, crawler)
        summary = build_from_crawler(CrawlSummary, crawler)
        summary.spider_opened()
        report.spider_opened()
        report.url_failed(url=f"http://x/{number}/", reason="timeout")
        crawler.stats.set_value("downloader/request_count", 1)
        report.spider_closed()
        summary.spider_closed(spider, "finished")
        folders.append(crawler.stats.get_value("report/dir"))
    assert len(set(folders)) == 2  # two crawls within one second: two folders
    first = json.loads((tmp_path / "reports" / folders[0].rsplit("/", 1)[1] / "summary.json")
                       .read_text())
    latest = json.loads((tmp_path / "last-crawl.json").read_text())
    assert (first["status"], first["exit_code"], first["report"]) == ("failed", 4, folders[0])
    assert latest["report"] == folders[1]
    assert json.loads((tmp_path / "failures.jsonl").read_text())["url"] == "http://x/2/"


def test_discovery_failures_before_a_graceful_stop_count_after_the_resume(tmp_path):
    settings = {"JOBDIR": str(tmp_path / "job")}
    paused = build_from_crawler(CrawlJobState, get_crawler(settings_dict=settings))
    paused.spider_opened()
    paused.stats.inc_value("discovery/failed/http_503")
    paused.spider_closed("shutdown")
    resumed = build_from_crawler(CrawlJobState, get_crawler(settings_dict=settings))
    resumed.spider_opened()
    stats = {**resumed.stats.get_stats(), **ANSWERED}
    assert crawl_outcome(stats, "finished").status == "incomplete"
