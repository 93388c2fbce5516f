"""Scheduler queues that keep requests in memory and write them to the job directory on a stop."""

from __future__ import annotations

from pathlib import Path

import pytest
import scrapy
from scrapy import Request
from scrapy.squeues import PickleFifoDiskQueue, PickleLifoDiskQueue
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.queues import BufferedPickleFifoDiskQueue, BufferedPickleLifoDiskQueue

PAIRS = [(BufferedPickleLifoDiskQueue, PickleLifoDiskQueue),
         (BufferedPickleFifoDiskQueue, PickleFifoDiskQueue)]


class Portal(scrapy.Spider):
    name = "portal"

    def parse_article(self, response):
        return None

    def request_failed(self, failure):
        return None

    parse_page = parse_article  # one method under two names


def crawler_with_spider(buffer: int = 4):
    crawler = get_crawler(Portal, {"SCHEDULER_DISK_QUEUE_BUFFER": buffer})
    crawler.spider = crawler._create_spider()
    return crawler


def request(number: int) -> Request:
    spider = Portal()
    return Request(f"http://127.0.0.1/bai-{number}/", callback=spider.parse_article,
                   meta={"fetch_state": {"lastmod": None}})


def exercise(queue, pushes_and_pops: list[int], number: int = 0) -> list[str]:
    """Push n requests for a positive n, pop -n for a negative one; the URLs popped."""
    popped = []
    for step in pushes_and_pops:
        for _ in range(step):
            queue.push(request(number))
            number += 1
        for _ in range(-step):
            if (got := queue.pop()) is not None:
                popped.append(got.url)
    return popped


STEPS = [3, -1, 9, -2, 1, -4, 12, -30]


@pytest.mark.parametrize(("buffered", "plain"), PAIRS)
def test_requests_come_out_in_the_order_of_scrapys_disk_queue(tmp_path, buffered, plain):
    crawler = crawler_with_spider(buffer=4)
    ours = build_from_crawler(buffered, crawler, str(tmp_path / "ours"))
    scrapys = build_from_crawler(plain, crawler, str(tmp_path / "scrapys"))
    assert exercise(ours, STEPS) == exercise(scrapys, STEPS)
    assert len(ours) == 0


@pytest.mark.parametrize(("buffered", "plain"), PAIRS)
def test_a_graceful_stop_writes_the_queue_and_a_resumed_crawl_carries_on(
        tmp_path, buffered, plain):
    crawler = crawler_with_spider(buffer=4)
    key = str(tmp_path / "requests.queue" / "p0")
    first = build_from_crawler(buffered, crawler, key)
    before_stop = exercise(first, [7, -2, 5])
    first.close()
    resumed = build_from_crawler(buffered, crawler, key)
    assert len(resumed) == 10
    after = exercise(resumed, [2, -20], number=12)
    uninterrupted = build_from_crawler(plain, crawler, str(tmp_path / "plain"))
    assert before_stop + after == exercise(uninterrupted, [7, -2, 5, 2, -20])
    resumed.close()
    assert not Path(key).exists()  # an empty queue leaves no file, as Scrapy's


def test_requests_stay_in_memory_until_the_buffer_is_full(tmp_path):
    crawler = crawler_with_spider(buffer=100)
    key = tmp_path / "queue"
    queue = build_from_crawler(BufferedPickleLifoDiskQueue, crawler, str(key))
    for number in range(100):
        queue.push(request(number))
    assert not key.exists()  # nothing pickled, nothing written
    for number in range(100, 1000):
        queue.push(request(number))
    assert len(queue) == 1000 and len(queue._memory) <= 100
    assert queue.pop().url == "http://127.0.0.1/bai-999/"


def test_a_request_that_cannot_be_written_stays_in_memory_and_is_served(tmp_path):
    crawler = crawler_with_spider(buffer=2)
    queue = build_from_crawler(BufferedPickleLifoDiskQueue, crawler, str(tmp_path / "q"))
    queue.push(Request("http://127.0.0.1/lambda/", callback=lambda response: None))
    for number in range(5):
        queue.push(request(number))
    urls = [queue.pop().url for _ in range(6)]
    assert sorted(urls) == sorted(["http://127.0.0.1/lambda/"]
                                  + [f"http://127.0.0.1/bai-{n}/" for n in range(5)])
    assert crawler.stats.get_value("scheduler/unserializable") == 1


def test_a_request_written_to_disk_comes_back_whole_with_the_spiders_callbacks(tmp_path):
    crawler = crawler_with_spider(buffer=1)
    spider = crawler.spider
    queue = build_from_crawler(BufferedPickleFifoDiskQueue, crawler, str(tmp_path / "q"))
    sent = [
        Request("http://127.0.0.1/a/", callback=spider.parse_article,
                errback=spider.request_failed, priority=5, headers={"If-None-Match": '"x"'},
                meta={"fetch_state": {"lastmod": "2020-01-02"}}, cb_kwargs={"page": 2}),
        Request("http://127.0.0.1/b/", callback=spider.parse_page),
        Request("http://127.0.0.1/c/"),
    ]
    for request in sent:
        queue.push(request)
    back = [queue.pop() for _ in sent]
    assert [request.to_dict(spider=spider) for request in back] == [
        request.to_dict(spider=spider) for request in sent]
    assert back[0].callback == spider.parse_article and back[0].errback == spider.request_failed
    assert back[1].callback.__func__ is Portal.parse_article
