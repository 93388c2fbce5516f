"""The compact seen sets and the dupefilter built on them."""

from __future__ import annotations

from scrapy import Request
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.dupefilter import CompactDupeFilter
from crawler.fingerprints import FingerprintSet, UrlSet


def test_a_fingerprint_set_is_a_set_as_it_grows():
    keys = [((i * 0x9E3779B97F4A7C15) % (1 << 64)) - (1 << 63) for i in range(20_000)] + [0, -1]
    seen = FingerprintSet()
    assert [seen.add(key) for key in keys] == [True] * len(keys)
    assert [seen.add(key) for key in keys[::7]] == [False] * len(keys[::7])
    assert all(key in seen for key in keys)
    assert 12345 not in FingerprintSet(keys[:100]) and len(seen) == len(keys)


def test_a_url_set_costs_tens_of_bytes_per_url():
    """Scrapy's set of SHA1 digests costs ~170 bytes per request; a set of URL strings more."""
    seen = UrlSet()
    urls = [f"http://127.0.0.1/channel/{i % 97}/2020/bai-{i}/" for i in range(100_000)]
    for url in urls:
        seen.add(url)
    assert all(url in seen for url in urls[::1000])
    assert "http://127.0.0.1/other/" not in seen
    assert seen._keys.memory() / len(urls) < 40


def test_the_dupefilter_filters_repeats_and_resumes_from_its_job_file(tmp_path):
    crawler = get_crawler(settings_dict={"JOBDIR": str(tmp_path)})
    first = build_from_crawler(CompactDupeFilter, crawler)
    pages = [Request(f"http://127.0.0.1/bai-{i}/") for i in range(50)]
    assert [first.request_seen(request) for request in pages] == [False] * 50
    # The same URL with its query in another order is the same request (Scrapy's fingerprint).
    assert first.request_seen(Request("http://127.0.0.1/bai-1/?b=2&a=1")) is False
    assert first.request_seen(Request("http://127.0.0.1/bai-1/?a=1&b=2")) is True
    first.close("shutdown")
    resumed = build_from_crawler(CompactDupeFilter, crawler)
    assert all(resumed.request_seen(request) for request in pages)
    assert resumed.request_seen(Request("http://127.0.0.1/new/")) is False
    resumed.close("finished")
