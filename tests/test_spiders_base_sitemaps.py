"""Sitemaps and feeds: gzip sitemap files, and XML that tries to expand, read files or fetch.

The portal spider's ``parse_sitemap`` and ``parse_feed`` are fed real documents (and one crawl
of the replica serves ``.xml.gz`` sitemaps); hostile ones must be refused with a counted and
reported failure, expanding nothing, opening no file and requesting nothing (a loopback server
and a FIFO watch for that), and the next document must still be read.
"""

from __future__ import annotations

import gzip
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from scrapy.http import Request, Response, XmlResponse
from scrapy.utils.test import get_crawler

from crawler.extensions.failures import url_failed
from spiders.baonamdinh import BaoNamDinhSpider
from tests.conftest import run_crawl
from tests.replica.content import build_site
from tests.replica.faults import entity_bomb
from tests.replica.pages import render_month_sitemap, render_rss
from tests.replica.process import ReplicaProcess

ORIGIN = "https://baonamdinh.vn"
SITE = build_site(articles=30)
MONTH = SITE.months()[0]
URLSET = render_month_sitemap(SITE, MONTH, ORIGIN).encode("utf-8")
MONTH_URLS = {article.url(ORIGIN) for article in SITE.articles_in_month(MONTH)}
FEED = render_rss(SITE, ORIGIN).encode("utf-8")
SITE_URLS = {article.url(ORIGIN) for article in SITE.articles}


class Failures:
    """The spider's failure reports (what ``failures.jsonl`` gets), by URL."""

    def __init__(self) -> None:
        self.reports: dict[str, dict] = {}

    def __call__(self, url: str, reason: str, attempts: int, detail: str, **_) -> None:
        self.reports[url] = {"reason": reason, "detail": detail}


def make_spider(archive: Path) -> BaoNamDinhSpider:
    """A spider of a crawl whose DOWNLOAD_MAXSIZE is 1 MB, its failure reports in `failures`."""
    crawler = get_crawler(BaoNamDinhSpider, settings_dict={
        "ARCHIVE_DIR": str(archive), "DOWNLOAD_MAXSIZE": 1024 * 1024})
    spider = BaoNamDinhSpider.from_crawler(crawler)
    spider.failures = Failures()  # kept on the spider: signals hold handlers weakly
    crawler.signals.connect(spider.failures, signal=url_failed)
    return spider


@pytest.fixture
def spider(tmp_path):
    return make_spider(tmp_path)


def requested(responses: Iterator) -> set[str]:
    return {request.url for request in responses}


def test_the_feed_and_sitemap_used_here_are_read(tmp_path):
    from_feed = requested(make_spider(tmp_path).parse_feed(
        XmlResponse(f"{ORIGIN}/rss/home.rss", body=FEED)))
    assert MONTH_URLS and from_feed and from_feed <= SITE_URLS
    assert requested(make_spider(tmp_path).parse_sitemap(
        XmlResponse(f"{ORIGIN}/sitemaps/a.xml", body=URLSET))) == MONTH_URLS


@pytest.mark.parametrize("content_type", ["application/x-gzip", "application/gzip"])
def test_a_gzip_sitemap_file_is_inflated_and_read(spider, content_type):
    # sitemap.xml.gz as portals publish it: the file is gzip, no Content-Encoding says so.
    url = f"{ORIGIN}/sitemaps/sitemap-{MONTH}.xml.gz"
    response = Response(url, body=gzip.compress(URLSET), headers={"Content-Type": content_type},
                        request=Request(url))
    assert requested(spider.parse_sitemap(response)) == MONTH_URLS
    assert not spider.failures.reports
    assert not spider.crawler.stats.get_value("pages/invalid/sitemap")


def test_a_gzip_sitemap_bomb_stops_at_download_maxsize(spider):
    url = f"{ORIGIN}/sitemaps/bomb.xml.gz"
    bomb = gzip.compress(URLSET.replace(b"<url>", b" " * 8_000_000 + b"<url>", 1))
    assert not list(spider.parse_sitemap(Response(url, body=bomb, request=Request(url))))
    report = spider.failures.reports[url]
    assert report["reason"] == "too_large"
    assert "DOWNLOAD_MAXSIZE (1048576 bytes)" in report["detail"]
    assert spider.crawler.stats.get_value("pages/invalid/sitemap") == 1
    # The crawl goes on: the next sitemap is read.
    next_url = f"{ORIGIN}/s.xml.gz"
    assert requested(spider.parse_sitemap(Response(
        next_url, body=gzip.compress(URLSET), request=Request(next_url)))) == MONTH_URLS


class Loopback(BaseHTTPRequestHandler):
    """Answers every GET with a DTD declaring an entity, and counts the requests."""

    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        Loopback.requests.append(self.path)
        body = b'<!ENTITY leak "LEAKED">'
        self.send_response(200)
        self.send_header("Content-Type", "application/xml-dtd")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def loopback():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Loopback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def watched_file(tmp_path):
    """A FIFO named as a local file: opening it for reading is seen (the event is set)."""
    fifo = tmp_path / "secret.dtd"
    os.mkfifo(fifo)
    opened = threading.Event()

    def writer() -> None:
        with open(fifo, "wb") as stream:  # returns once a reader opens the FIFO
            opened.set()
            stream.write(b'<!ENTITY leak "LEAKED">')

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    yield fifo, opened
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # releases the writer
    thread.join(5)
    os.close(reader)


def billion_laughs(root: str, inner: str) -> bytes:
    """The replica's entity bomb (DOCTYPE after a 70 KB comment) around another root."""
    bomb = entity_bomb()
    head = bomb[: bomb.index(b"<urlset xmlns")]
    head = head.replace(b"DOCTYPE urlset", f"DOCTYPE {root}".encode())
    return head + f"<{root}>{inner}</{root}>".encode()


def hostile_documents(loopback: str, fifo: Path) -> dict[str, tuple[str, str]]:
    """name -> (DOCTYPE internal subset, the reference that would pull the entity in)."""
    return {
        "file entity": ('<!ENTITY x SYSTEM "file:///etc/passwd">', "&x;"),
        "fifo entity": (f'<!ENTITY x SYSTEM "file://{fifo}">', "&x;"),
        "fifo parameter entity": (f'<!ENTITY % x SYSTEM "file://{fifo}"> %x;', "&leak;"),
        "http entity": (f'<!ENTITY x SYSTEM "{loopback}/entity">', "&x;"),
        "http parameter entity": (f'<!ENTITY % x SYSTEM "{loopback}/pe.dtd"> %x;', "&leak;"),
    }


def as_sitemap(subset: str, reference: str) -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE urlset [{subset}]>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{ORIGIN}/channel/5085/202002/a{reference}-2536418/</loc></url>"
            "</urlset>").encode()


def as_feed(subset: str, reference: str) -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rss [{subset}]>\n<rss version="2.0"><channel>'
            f"<item><link>{ORIGIN}/channel/5085/202002/a{reference}-2536418/</link></item>"
            "</channel></rss>").encode()


@pytest.mark.parametrize("kind", ["sitemap", "feed"])
@pytest.mark.parametrize("name", ["billion laughs", "file entity", "fifo entity",
                                  "fifo parameter entity", "http entity",
                                  "http parameter entity"])
def test_hostile_xml_is_refused_and_reported_expanding_reading_and_fetching_nothing(
        spider, loopback, watched_file, kind, name):
    fifo, opened = watched_file
    Loopback.requests.clear()
    if name == "billion laughs":
        inner = f"<url><loc>{ORIGIN}/&lol9;</loc></url>" if kind == "sitemap" else (
            f"<channel><item><link>{ORIGIN}/&lol9;</link></item></channel>")
        document = billion_laughs("urlset" if kind == "sitemap" else "rss", inner)
        assert document.index(b"<!DOCTYPE") > 70_000
    else:
        build = as_sitemap if kind == "sitemap" else as_feed
        document = build(*hostile_documents(loopback, fifo)[name])
    url = f"{ORIGIN}/hostile.xml"
    parse = spider.parse_sitemap if kind == "sitemap" else spider.parse_feed
    started = time.monotonic()
    assert not list(parse(XmlResponse(url, body=document)))
    assert time.monotonic() - started < 1
    assert spider.failures.reports[url]["reason"] == "xml_entities"
    assert "root:" not in spider.failures.reports[url]["detail"]
    assert spider.crawler.stats.get_value(f"pages/invalid/{kind}") == 1
    assert not opened.is_set(), "a local file named by the document was opened"
    assert Loopback.requests == []
    # The crawl goes on.
    good = URLSET if kind == "sitemap" else FEED
    assert requested(parse(XmlResponse(f"{ORIGIN}/good.xml", body=good)))


def test_an_external_dtd_is_neither_fetched_nor_read(tmp_path, loopback, watched_file):
    # An external DTD declares nothing in the document: it is not refused, and not loaded.
    fifo, opened = watched_file
    Loopback.requests.clear()
    for system in (f"{loopback}/urlset.dtd", f"file://{fifo}"):
        spider = make_spider(tmp_path)
        doctype = f'<!DOCTYPE urlset SYSTEM "{system}">\n<urlset '.encode()
        document = URLSET.replace(b"<urlset ", doctype, 1)
        assert requested(spider.parse_sitemap(
            XmlResponse(f"{ORIGIN}/dtd.xml", body=document))) == MONTH_URLS
        assert not spider.failures.reports
    assert not opened.is_set() and Loopback.requests == []


def test_a_crawl_reads_gzip_sitemaps(tmp_path):
    articles = 12
    with ReplicaProcess(articles=articles, faults=["gzip-sitemaps"]) as portal:
        run = run_crawl(portal.origin, tmp_path / "archive")
        requests = portal.stats()["requests"]
    assert run.returncode == 0, run.log[-3000:]
    gz_sitemaps = [path for path in requests if path.endswith(".xml.gz")]
    assert gz_sitemaps and not [path for path in requests if path.startswith("/sitemaps/")
                                and path.endswith(".xml")]
    # Which source finds an article first varies from run to run (feeds are one level less
    # deep than monthly sitemaps); what must not happen is a sitemap refused as invalid.
    summary = run.summary
    assert summary["failed_by_reason"] == {} and summary["errors_logged"] == 0, summary
    assert " not read (" not in run.log
    assert summary["articles_stored"] == articles
