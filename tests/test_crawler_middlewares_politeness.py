"""Retry-After parsing, failure reasons, robots Crawl-delay, job state after stops and crashes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from scrapy.exceptions import IgnoreRequest, NotConfigured, ResponseDataLossError
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.extensions.failures import FailureReport, failure_reason
from crawler.extensions.jobstate import MARKER, CrawlJobState, read_marker
from crawler.middlewares.guards import PolitenessGuardMiddleware
from crawler.middlewares.retry_after import RetryAfterMiddleware, retry_after_seconds


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Sun, 29 Nov 2026 12:00:30 GMT", now) == 30
    assert retry_after_seconds("Sun, 29 Nov 2026 11:00:00 GMT", now) == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_retry_after_can_be_switched_off():
    with pytest.raises(NotConfigured):
        build_from_crawler(RetryAfterMiddleware,
                           get_crawler(settings_dict={"RETRY_AFTER_ENABLED": False}))


def fail(error: Exception) -> Failure:
    try:
        raise error
    except Exception:
        return Failure()


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (HttpError(Response("http://x/", status=404), "Ignoring"), "http_404"),
        (IgnoreRequest("Forbidden by robots.txt"), "robots_forbidden"),
        (IgnoreRequest("max redirections reached"), "redirect_loop"),
        (IgnoreRequest("offsite redirect: redirects to http://y/"), "offsite_redirect"),
        (IgnoreRequest("offsite request to http://y/"), "offsite"),
        (IgnoreRequest("… exceeded DOWNLOAD_MAXSIZE (33554432 B) during decompression."),
         "too_large"),
        (ResponseDataLossError(), "truncated"),
        (ValueError("odd"), "ValueError"),
    ],
)
def test_failures_get_short_stable_reasons(error, reason):
    assert failure_reason(fail(error)) == reason


def test_failure_report_lists_each_url_once_and_counts_reasons(tmp_path):
    crawler = get_crawler(settings_dict={"FAILURES_FILE": str(tmp_path / "f.jsonl"),
                                         "ARCHIVE_DIR": str(tmp_path)})
    report = build_from_crawler(FailureReport, crawler)
    report.spider_opened()
    report.url_failed(url="http://x/a/", reason="http_404")
    report.url_failed(url="http://x/a/", reason="http_404")
    report.url_failed(url="http://x/b/", reason="timeout", attempts=4, detail="took too long")
    report.spider_closed()
    lines = [json.loads(line) for line in (tmp_path / "f.jsonl").read_text().splitlines()]
    assert [(line["url"], line["reason"], line["attempts"]) for line in lines] == [
        ("http://x/a/", "http_404", 1), ("http://x/b/", "timeout", 4)]
    assert crawler.stats.get_value("failures/http_404") == 1


def test_robots_crawl_delay_is_kept_and_capped():
    crawler = get_crawler(settings_dict={"USER_AGENT": "archiver", "AUTOTHROTTLE_MAX_DELAY": 5})
    guard = build_from_crawler(PolitenessGuardMiddleware, crawler)
    robots = b"User-agent: *\nCrawl-delay: 3\n\nUser-agent: archiver\nCrawl-delay: 60\n"
    guard._read_crawl_delay("x.vn", robots)
    assert guard.crawl_delays == {"x.vn": 5.0}


def job(tmp_path, marker: dict | None) -> CrawlJobState:
    jobdir = tmp_path / "job"
    (jobdir / "requests.queue").mkdir(parents=True)
    (jobdir / "requests.seen").write_text("abc\n")
    if marker is not None:
        (jobdir / MARKER).write_text(json.dumps(marker))
    return build_from_crawler(CrawlJobState, get_crawler(settings_dict={"JOBDIR": str(jobdir)}))


def test_a_paused_job_is_resumed_as_scrapy_left_it(tmp_path):
    state = job(tmp_path, {"state": "paused", "started": "2026-11-29T01:00:00+00:00"})
    assert (tmp_path / "job" / "requests.seen").exists()
    assert state.marker["started"] == "2026-11-29T01:00:00+00:00"


def test_a_crashed_job_is_discarded_and_its_start_remembered(tmp_path, caplog):
    started = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    state = job(tmp_path, {"state": "running", "started": started})
    assert not (tmp_path / "job" / "requests.seen").exists()
    assert not (tmp_path / "job" / "requests.queue").exists()
    assert state.marker["interrupted_since"] == started
    assert "did not stop cleanly" in caplog.text
    state.spider_opened()
    state.spider_closed("finished")
    assert read_marker(tmp_path / "job")["state"] == "finished"


def test_a_finished_job_leaves_nothing_to_the_next_crawl(tmp_path):
    job(tmp_path, {"state": "finished", "started": "2026-11-29T01:00:00+00:00"})
    assert not (tmp_path / "job" / "requests.seen").exists()


def test_overriding_robots_txt_is_said_loudly(caplog):
    guard = build_from_crawler(
        PolitenessGuardMiddleware, get_crawler(settings_dict={"ROBOTSTXT_OBEY": False})
    )
    guard.spider_opened(spider=None)
    assert any(
        record.levelname == "WARNING" and "ignores the portals' robots.txt" in record.message
        for record in caplog.records
    )
