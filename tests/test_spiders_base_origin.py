"""A mirror crawl of a hostile replica never leaves its origin, and no page takes another's key.

The hostile replica (``tests/replica/hostile.py``) links, redirects, lists in sitemaps and
feeds, names as canonical and embeds as images URLs on other origins: another port, another
loopback address, another scheme, another host name for the same port, and the real portal's
domain. Two independent witnesses count what reached elsewhere: the replica itself (requests by
``Host``) and a second server on the other port and address (every connection). A resolver that
refuses every non-loopback name shows that the real domain was never even looked up.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from spiders.baonamdinh import BaoNamDinhSpider
from storage.articles import ArticleStore
from storage.export import export
from tests.conftest import run_crawl, scrapy
from tests.replica.content import build_site
from tests.replica.hostile import (
    CANONICAL_COLLISION,
    CANONICAL_ELSEWHERE,
    LINKED_ELSEWHERE,
    REAL_SITE,
    HostilePlan,
)
from tests.replica.process import ReplicaProcess
from tests.replica.witness import ADDRESSES, Witness, loopback_reachable

ARTICLES = 40
SITE = build_site(articles=ARTICLES)
RESOLVER = "tests.replica.witness.LoopbackOnlyResolver"


PATH = "/channel/5085/202002/khoi-thi-dua-2536418/"


@pytest.mark.parametrize(
    ("base_url", "url", "canonical", "kept", "rejected"),
    [
        # The site's own domains: trusted, and moved onto the crawled origin like any link.
        (None, "https://baonamdinh.vn" + PATH, "https://www.baonamdinh.vn" + PATH + "#top",
         "https://baonamdinh.vn" + PATH, None),
        (None, "https://baonamdinh.vn" + PATH, "http://baonamdinh.vn/x-1/", "http://baonamdinh.vn/x-1/",
         None),
        (None, "https://baonamdinh.vn" + PATH, "https://baonamdinh.vn:8443" + PATH,
         "https://baonamdinh.vn" + PATH, "offsite"),
        (None, "https://baonamdinh.vn" + PATH, "https://other.vn" + PATH,
         "https://baonamdinh.vn" + PATH, "offsite"),
        # A mirror: the real domain is moved onto it; any other origin is refused.
        ("http://127.0.0.1:8765/", "http://127.0.0.1:8765" + PATH, "https://baonamdinh.vn" + PATH,
         "http://127.0.0.1:8765" + PATH, None),
        ("http://127.0.0.1:8765/", "http://127.0.0.1:8765" + PATH, "http://localhost:8765" + PATH,
         "http://127.0.0.1:8765" + PATH, "offsite"),
    ],
)
def test_a_canonical_url_is_trusted_on_the_crawled_site_only(tmp_path, base_url, url, canonical,
                                                             kept, rejected):
    crawler = get_crawler(BaoNamDinhSpider, settings_dict={"ARCHIVE_DIR": str(tmp_path)})
    spider = crawler._create_spider(base_url=base_url)
    record = {"url": url, "canonical_url": canonical}
    spider.trust_canonical(record)
    assert record["canonical_url"] == kept
    assert record.get("canonical_rejected") == rejected
    if rejected:
        assert record["canonical_claimed"] == canonical
        assert crawler.stats.get_value("articles/canonical_rejected/offsite") == 1


@pytest.fixture(scope="module")
def hostile_crawl(tmp_path_factory):
    archive = tmp_path_factory.mktemp("hostile")
    addresses = ADDRESSES if loopback_reachable("127.0.0.2") else ADDRESSES[:1]
    with Witness(addresses) as witness, ReplicaProcess(
        articles=ARTICLES, extra_args=["--hostile-port", str(witness.port)]
    ) as portal:
        run = run_crawl(portal.origin, archive, TWISTED_DNS_RESOLVER=RESOLVER)
        origins = portal.stats()["origins"]
        plan = HostilePlan(witness.port)
        elsewhere = witness.connections()
        origin = portal.origin
    assert run.returncode == 0, run.log[-3000:]
    with ArticleStore(run.db) as store:
        stored = list(store.iter_articles())
    failures = [json.loads(line) for line in (archive / "failures.jsonl").open(encoding="utf-8")]
    return run, origin, plan, origins, elsewhere, stored, failures


def test_the_replica_serves_every_kind_of_way_out(hostile_crawl):
    _, origin, plan, *_ = hostile_crawl
    kinds = plan.origins(origin)
    assert urlsplit(kinds["other-port"]).port != urlsplit(origin).port
    assert urlsplit(kinds["other-host"]).port == urlsplit(origin).port
    assert {urlsplit(o).scheme for o in kinds.values()} == {"http", "https"}
    assert set(plan.redirected(SITE).values()) == {
        ("other-port", 302), ("other-host", 302), ("real-site", 301), ("other-scheme", 302),
        ("other-address", 200)}


def test_no_request_reaches_another_origin(hostile_crawl):
    run, origin, _, origins, elsewhere, _, _ = hostile_crawl
    # The replica answered under one origin only (localhost:PORT would reach it too) ...
    assert set(origins) == {origin}, origins
    # ... the second server on the other port and address never heard from the crawler ...
    assert elsewhere == []
    # ... the WARC holds requests to the origin only ...
    targets = set()
    for path in run.warc_files:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "request":
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    targets.add(f"{urlsplit(uri).scheme}://{urlsplit(uri).netloc}")
    assert targets == {origin}
    # ... and the real domain was never looked up (the test resolver logs any other name).
    assert "refused to resolve" not in run.log
    assert "dns_error" not in run.log


def test_every_way_out_is_counted(hostile_crawl):
    run, *_ = hostile_crawl
    counts = {name: int(value) for name, value in
              re.findall(r"'offsite/([a-z_]+)': (\d+)", run.log)}
    # Links from listings, sitemaps, the feed, paging and images on four other origins.
    assert counts.get("links", 0) >= 4 * (len(LINKED_ELSEWHERE) + 1)
    assert counts.get("redirects") == 5
    assert run.summary["offsite_by_kind"] == counts


def test_redirects_elsewhere_are_refused_and_reported(hostile_crawl):
    _, origin, plan, _, _, stored, failures = hostile_crawl
    redirected = plan.redirected(SITE)
    reported = {urlsplit(f["url"]).path: f for f in failures}
    assert {path for path, f in reported.items() if f["reason"] == "offsite_redirect"} == set(
        redirected)
    for path, (kind, _) in redirected.items():
        assert reported[path]["url"] == origin + path
        assert plan.origins(origin)[kind] + path in reported[path]["detail"], reported[path]
    assert REAL_SITE in reported[SITE.articles[3].path]["detail"]
    # Links to other origins are counted, not listed one by one.
    assert set(reported) == set(redirected)


def test_every_article_is_stored_under_its_own_url(hostile_crawl, tmp_path):
    _, origin, plan, _, _, stored, _ = hostile_crawl
    expected = {a.path for a in SITE.articles} - set(plan.redirected(SITE))
    assert {r["canonical_url"] for r in stored} == {origin + path for path in expected}
    assert all(r["url"] == r["canonical_url"] for r in stored)
    assert all(r["version"] == 1 for r in stored)
    by_path = {urlsplit(r["url"]).path: r for r in stored}
    for article in SITE.articles:
        if article.path in expected:
            assert by_path[article.path]["title"] == article.title, article.path
    assert export(stored, tmp_path / "a.jsonl") == len(expected)


def test_canonicals_elsewhere_or_of_another_article_are_rejected_and_recorded(hostile_crawl):
    _, origin, plan, _, _, stored, _ = hostile_crawl
    by_path = {urlsplit(r["url"]).path: r for r in stored}
    for index, target in CANONICAL_COLLISION.items():
        record = by_path[SITE.articles[index].path]
        assert record["canonical_rejected"] == "collision"
        assert record["canonical_claimed"] == origin + SITE.articles[target].path
        assert "canonical_rejected" not in by_path[SITE.articles[target].path]
    for index, kind in CANONICAL_ELSEWHERE.items():
        record = by_path[SITE.articles[index].path]
        if kind == "real-site":
            # The real portal's URL of the same page: moved onto the mirror, and kept.
            assert "canonical_rejected" not in record
        else:
            assert record["canonical_rejected"] == "offsite"
            assert record["canonical_claimed"] == plan.origins(origin)[kind] + record["url"][
                len(origin):]


def test_reparse_applies_the_same_canonical_rule(hostile_crawl):
    run, *_ = hostile_crawl
    with ArticleStore(run.db) as store:
        before = {r["canonical_url"]: r.get("canonical_rejected") for r in store.iter_articles()}
    result = scrapy("reparse", "baonamdinh", "-s", f"ARCHIVE_DIR={run.archive}")
    assert result.returncode == 0, result.stderr[-2000:]
    with ArticleStore(run.db) as store:
        after = {r["canonical_url"]: r.get("canonical_rejected") for r in store.iter_articles()}
    assert after == before
