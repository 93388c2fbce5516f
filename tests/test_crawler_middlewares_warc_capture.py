"""Tests for WarcCaptureMiddleware: real Scrapy objects, real crawls of a loopback server.

The end-to-end tests run each crawl in a child process (``python -m`` this module),
because Twisted's reactor cannot be restarted inside the pytest process.  The child
crawls a ``http.server`` running in a thread of the test process and leaves its WARC
files, items (JSON lines), stats and log in a temporary directory.
"""

from __future__ import annotations

import gzip
import hashlib
import ipaddress
import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from crawler.middlewares.warc_capture import WarcCaptureMiddleware, flatten_headers

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MIDDLEWARE = "crawler.middlewares.warc_capture.WarcCaptureMiddleware"
USER_AGENT = "provincial-news-archiver-test (+https://example.invalid/bot)"

HOME_HTML = "<html><head><title>Báo Nam Định</title></head><body>Trang chủ</body></html>".encode()
HOME_GZIP = gzip.compress(HOME_HTML, mtime=0)
LANDING_HTML = b"<html><body>landing</body></html>"
SKIP_HTML = b"<html><body>not archived</body></html>"
CHUNKS = [b"<html><body>", b"chunked ", b"body</body></html>"]


class PortalHandler(BaseHTTPRequestHandler):
    """A few portal-shaped pages: gzip, cookies, a redirect, a chunked body."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        """Serve the page for ``self.path``."""
        if self.path == "/robots.txt":
            self._send(200, b"User-agent: *\nAllow: /\n", [("Content-Type", "text/plain")])
        elif self.path == "/gzip.html":
            self._send(
                200,
                HOME_GZIP,
                [
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Encoding", "gzip"),
                    ("Set-Cookie", "session=abc; Path=/"),
                    ("Set-Cookie", "lang=vi; Path=/"),
                ],
            )
        elif self.path == "/redirect":
            self._send(302, b"", [("Location", "/landing.html")])
        elif self.path == "/landing.html":
            self._send(200, LANDING_HTML, [("Content-Type", "text/html")])
        elif self.path == "/skip.html":
            self._send(200, SKIP_HTML, [("Content-Type", "text/html")])
        elif self.path == "/chunked.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in CHUNKS:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._send(404, b"not found", [("Content-Type", "text/plain")])

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        """Keep the test output quiet."""


class ArchiveTestSpider(scrapy.Spider):
    """Fetch the home page, then a redirect, an opted-out page and a chunked page."""

    name = "warctest"
    origin = ""

    async def start(self) -> Any:
        """Start from the gzip-compressed home page."""
        yield scrapy.Request(f"{self.origin}/gzip.html", callback=self.parse_home)

    def parse_home(self, response: Response) -> Any:
        """Record the home page and queue the other pages (cookies now set)."""
        yield self.as_item(response)
        yield response.follow("/redirect", callback=self.parse_page)
        yield response.follow("/skip.html", callback=self.parse_page, meta={"dont_archive": True})
        yield response.follow("/chunked.html", callback=self.parse_page)

    def parse_page(self, response: Response) -> Any:
        """Record any other page."""
        yield self.as_item(response)

    @staticmethod
    def as_item(response: Response) -> dict[str, Any]:
        """What the test checks about a response that reached its callback."""
        return {
            "url": response.url,
            "status": response.status,
            "body_sha1": hashlib.sha1(response.body).hexdigest(),
            "warc": response.meta.get("warc"),
            "redirect_urls": response.meta.get("redirect_urls", []),
        }


def crawl_main(origin: str, output: str, overrides: str) -> None:
    """Run one crawl of ``origin`` (in a child process) and save items and stats."""
    from scrapy.crawler import CrawlerProcess

    output_dir = Path(output)
    settings = {
        "DOWNLOADER_MIDDLEWARES": {MIDDLEWARE: 950},
        "ARCHIVE_DIR": str(output_dir / "archive"),
        "ROBOTSTXT_OBEY": True,
        "USER_AGENT": USER_AGENT,
        "WARC_OPERATOR": "Thư viện tỉnh Nam Định",
        "FEEDS": {str(output_dir / "items.jsonl"): {"format": "jsonlines"}},
        "LOG_LEVEL": "INFO",
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        **json.loads(overrides),
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ArchiveTestSpider)
    process.crawl(crawler, origin=origin)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    (output_dir / "stats.json").write_text(json.dumps(stats, default=str))


@dataclass
class CrawlResult:
    """What a finished crawl left behind."""

    output: Path
    log: str

    @property
    def warc_dir(self) -> Path:
        return self.output / "archive" / "warc"

    @property
    def items(self) -> dict[str, dict[str, Any]]:
        lines = (self.output / "items.jsonl").read_text().splitlines()
        return {item["url"].rsplit("/", 1)[1]: item for item in map(json.loads, lines)}

    @property
    def stats(self) -> dict[str, Any]:
        return json.loads((self.output / "stats.json").read_text())

    @property
    def warc_files(self) -> list[Path]:
        return sorted(self.warc_dir.iterdir()) if self.warc_dir.exists() else []


@dataclass
class ReadRecord:
    """One WARC record read back, with both raw and decoded payloads."""

    path: Path
    offset: int
    rec_type: str
    headers: dict[str, str]
    http_headers: list[tuple[str, str]]
    statusline: str
    raw: bytes
    content: bytes


def read_warc(path: Path) -> list[ReadRecord]:
    """Read every record of ``path``; the payload twice (raw, then as warcio decodes it)."""
    records: list[ReadRecord] = []
    with path.open("rb") as stream:
        iterator = ArchiveIterator(stream)
        for record in iterator:
            http = record.http_headers
            # Read the payload first: get_record_offset() skips to the record's end.
            content = record.content_stream().read()
            records.append(
                ReadRecord(
                    path=path,
                    offset=iterator.get_record_offset(),
                    rec_type=record.rec_type,
                    headers=dict(record.rec_headers.headers),
                    http_headers=list(http.headers) if http else [],
                    statusline=f"{http.protocol} {http.statusline}" if http else "",
                    raw=b"",
                    content=content,
                )
            )
    with path.open("rb") as stream:
        for entry, record in zip(records, ArchiveIterator(stream), strict=True):
            entry.raw = record.raw_stream.read()
    return records


def find(records: list[ReadRecord], rec_type: str, path: str) -> ReadRecord:
    """Return the only record of ``rec_type`` whose target URI ends with ``path``."""
    (match,) = [
        r
        for r in records
        if r.rec_type == rec_type and r.headers.get("WARC-Target-URI", "").endswith(path)
    ]
    return match


def header(record: ReadRecord, name: str) -> list[str]:
    """Return every value of the HTTP header ``name`` in ``record``."""
    return [value for key, value in record.http_headers if key.lower() == name.lower()]


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    """A portal-shaped HTTP server on 127.0.0.1 for this module's crawls."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), PortalHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def run_crawl(origin: str, output: Path, **overrides: Any) -> CrawlResult:
    """Crawl ``origin`` in a child process with the middleware enabled."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.test_crawler_middlewares_warc_capture",
            origin,
            str(output),
            json.dumps(overrides),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return CrawlResult(output, result.stderr)


@pytest.fixture(scope="module")
def crawl(origin: str, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    """One archived crawl shared by the end-to-end tests."""
    return run_crawl(origin, tmp_path_factory.mktemp("warc-crawl"))


@pytest.fixture(scope="module")
def records(crawl: CrawlResult) -> list[ReadRecord]:
    """Every record of every WARC file the crawl wrote."""
    return [record for path in crawl.warc_files for record in read_warc(path)]


def test_gzip_payload_is_archived_as_received(crawl: CrawlResult, records: list[ReadRecord]):
    response = find(records, "response", "/gzip.html")
    assert response.statusline == "HTTP/1.1 200 OK"
    assert header(response, "Content-Encoding") == ["gzip"]
    assert response.raw == HOME_GZIP  # before HttpCompressionMiddleware (590) decoded it
    assert response.content == HOME_HTML  # warcio's default decoding gives the page back
    # ... while the spider's callback got the decoded page, so decoding happened after us.
    assert crawl.items["gzip.html"]["body_sha1"] == hashlib.sha1(HOME_HTML).hexdigest()


def test_response_headers_keep_duplicates(records: list[ReadRecord]):
    response = find(records, "response", "/gzip.html")
    assert header(response, "Set-Cookie") == ["session=abc; Path=/", "lang=vi; Path=/"]
    assert header(response, "Content-Length") == [str(len(HOME_GZIP))]


def test_request_record_has_headers_as_sent(records: list[ReadRecord]):
    home = find(records, "request", "/gzip.html")
    assert home.statusline == "GET /gzip.html HTTP/1.1"
    assert header(home, "User-Agent") == [USER_AGENT]  # UserAgentMiddleware, 500
    assert "gzip" in header(home, "Accept-Encoding")[0]  # HttpCompressionMiddleware, 590
    assert header(home, "Host") == [home.headers["WARC-Target-URI"].split("/")[2]]
    follow_up = find(records, "request", "/redirect")
    cookie = header(follow_up, "Cookie")[0]  # CookiesMiddleware, 700
    assert "session=abc" in cookie and "lang=vi" in cookie


def test_item_pointer_matches_the_response_record(crawl: CrawlResult):
    for name in ("gzip.html", "landing.html", "chunked.html"):
        pointer = crawl.items[name]["warc"]
        path = crawl.warc_dir / pointer["filename"]
        with path.open("rb") as stream:
            stream.seek(pointer["offset"])
            record = next(iter(ArchiveIterator(stream)))
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Record-ID") == pointer["record_id"]
            assert record.rec_headers.get_header("WARC-Target-URI") == crawl.items[name]["url"]
            assert pointer["target_uri"] == crawl.items[name]["url"]
            assert record.rec_headers.get_header("WARC-Payload-Digest") == pointer["payload_digest"]
            assert record.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
        assert pointer["length"] > 0


def test_every_redirect_hop_is_archived(crawl: CrawlResult, records: list[ReadRecord]):
    hop = find(records, "response", "/redirect")
    assert hop.statusline == "HTTP/1.1 302 Found"
    assert header(hop, "Location") == ["/landing.html"]
    landing = find(records, "response", "/landing.html")
    item = crawl.items["landing.html"]
    assert item["redirect_urls"][0].endswith("/redirect")
    assert item["warc"]["record_id"] == landing.headers["WARC-Record-ID"]


def test_request_and_response_are_paired(records: list[ReadRecord]):
    responses = [r for r in records if r.rec_type == "response"]
    requests = {r.headers["WARC-Concurrent-To"]: r for r in records if r.rec_type == "request"}
    assert len(requests) == len(responses)
    for response in responses:
        request = requests[response.headers["WARC-Record-ID"]]
        assert request.path == response.path
        assert request.headers["WARC-Target-URI"] == response.headers["WARC-Target-URI"]


def test_robots_txt_is_archived(records: list[ReadRecord]):
    robots = find(records, "response", "/robots.txt")
    assert robots.content == b"User-agent: *\nAllow: /\n"


def test_dont_archive_is_respected(crawl: CrawlResult, records: list[ReadRecord]):
    assert not [r for r in records if r.headers.get("WARC-Target-URI", "").endswith("/skip.html")]
    assert crawl.items["skip.html"]["warc"] is None
    assert crawl.stats["warc/skipped"] == 1
    assert crawl.stats["warc/skipped/dont_archive"] == 1


def test_dechunked_body_is_not_labelled_chunked(records: list[ReadRecord]):
    response = find(records, "response", "/chunked.html")
    assert header(response, "Transfer-Encoding") == []
    assert response.raw == b"".join(CHUNKS)
    assert response.content == b"".join(CHUNKS)


def test_files_are_closed_named_after_the_spider_and_start_with_warcinfo(crawl: CrawlResult):
    files = crawl.warc_files
    assert files
    for path in files:
        assert path.name.startswith("warctest-")
        assert path.name.endswith(".warc.gz")
        assert f"Closed WARC file {path}" in crawl.log
        warcinfo = read_warc(path)[0]
        assert warcinfo.rec_type == "warcinfo"
        fields = warcinfo.content.decode()
        assert "robots: obey\r\n" in fields
        assert "operator: Thư viện tỉnh Nam Định\r\n" in fields
        assert f"http-header-user-agent: {USER_AGENT}\r\n" in fields
        assert fields.startswith("software: provincial-news-archiver/")


def test_warcio_check_passes(crawl: CrawlResult):
    for path in crawl.warc_files:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "warcio.cli",
                "check",
                "-v",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.count("digest pass") == len(read_warc(path))


def test_stats(crawl: CrawlResult, records: list[ReadRecord]):
    responses = [r for r in records if r.rec_type == "response"]
    stats = crawl.stats
    assert stats["warc/responses"] == len(responses) == 5  # robots, home, 302, landing, chunked
    assert stats["warc/records"] == 2 * len(responses)
    assert stats["warc/files"] == len(crawl.warc_files)
    assert stats["warc/bytes"] == sum(p.stat().st_size for p in crawl.warc_files)
    assert "warc/errors" not in stats


def test_no_deprecation_warning_about_the_middleware(crawl: CrawlResult):
    assert "requires a spider argument" not in crawl.log
    warnings = [line for line in crawl.log.splitlines() if "Warning" in line]
    assert not [line for line in warnings if "warc" in line.lower()]


def test_disabled_by_setting(origin: str, tmp_path: Path):
    result = run_crawl(origin, tmp_path, WARC_ENABLED=False)
    assert result.warc_files == []
    assert all(item["warc"] is None for item in result.items.values())
    assert not [key for key in result.stats if key.startswith("warc/")]


def test_failed_writes_are_counted_and_the_crawl_goes_on(origin: str, tmp_path: Path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the WARC directory should be")
    result = run_crawl(origin, tmp_path, WARC_DIR=str(blocker / "warc"))
    assert set(result.items) == {
        "gzip.html",
        "landing.html",
        "skip.html",
        "chunked.html",
    }
    assert all(item["warc"] is None for item in result.items.values())
    assert result.stats["warc/errors"] == 5
    assert "warc/responses" not in result.stats
    assert f"Could not archive {origin}/gzip.html" in result.log


# Tests below drive the middleware directly with real Scrapy objects, no reactor.


def build_middleware(**settings: Any) -> tuple[WarcCaptureMiddleware, Any]:
    """Build the middleware the way Scrapy does, from a crawler with ``settings``."""
    crawler = get_crawler(settings_dict=settings)
    return build_from_crawler(WarcCaptureMiddleware, crawler), crawler


def test_not_configured_when_disabled():
    with pytest.raises(NotConfigured):
        build_middleware(WARC_ENABLED=False)


def test_directory_defaults(tmp_path: Path):
    middleware, _ = build_middleware()
    assert middleware.directory == Path("archive") / "warc"
    middleware, _ = build_middleware(ARCHIVE_DIR=str(tmp_path))
    assert middleware.directory == tmp_path / "warc"
    middleware, _ = build_middleware(ARCHIVE_DIR=str(tmp_path), WARC_DIR=str(tmp_path / "w"))
    assert middleware.directory == tmp_path / "w"
    assert middleware.prefix == "archive"  # no spider yet
    assert middleware.max_size == 1_000_000_000


def test_warcinfo_from_settings(tmp_path: Path):
    middleware, _ = build_middleware(
        ARCHIVE_DIR=str(tmp_path),
        ROBOTSTXT_OBEY=False,
        USER_AGENT="ua/1.0",
        WARC_OPERATOR="ops",
        WARC_PREFIX="nam-dinh",
        WARC_MAX_SIZE="5000",
        WARC_IS_PART_OF="baonamdinh-2026",
    )
    crawl_id = middleware.warcinfo.pop("crawl-id")
    assert crawl_id.startswith("nam-dinh-")
    assert middleware.warcinfo == {
        "robots": "ignore",
        "isPartOf": "baonamdinh-2026",
        "operator": "ops",
        "http-header-user-agent": "ua/1.0",
    }
    assert middleware.prefix == "nam-dinh"
    assert middleware.max_size == 5000


def page(url: str = "http://127.0.0.1:8080/tin/1.html", **kwargs: Any) -> tuple[Request, Response]:
    """A request and its response as the downloader hands them over."""
    request = Request(url, headers={"User-Agent": "ua", "Accept-Language": "vi"})
    options: dict[str, Any] = {
        "status": 200,
        "headers": {"Content-Type": "text/html", "Set-Cookie": ["a=1", "b=2"]},
        "body": LANDING_HTML,
        "request": request,
        "ip_address": ipaddress.ip_address("127.0.0.1"),
        "protocol": "HTTP/1.1",
    }
    options.update(kwargs)
    return request, HtmlResponse(url, **options)


def test_process_response_archives_and_sets_meta(tmp_path: Path):
    middleware, crawler = build_middleware(ARCHIVE_DIR=str(tmp_path))
    request, response = page()

    assert middleware.process_response(request, response) is response

    pointer = request.meta["warc"]
    middleware.spider_closed()
    (path,) = (tmp_path / "warc").iterdir()
    assert pointer["filename"] == path.name
    records = read_warc(path)
    response_record = find(records, "response", "/tin/1.html")
    request_record = find(records, "request", "/tin/1.html")
    assert response_record.headers["WARC-Record-ID"] == pointer["record_id"]
    assert response_record.offset == pointer["offset"]
    assert header(response_record, "Set-Cookie") == ["a=1", "b=2"]
    # Host is added by Twisted's client on the wire, so it is added to the record too.
    assert request_record.http_headers[0] == ("Host", "127.0.0.1:8080")
    assert header(request_record, "Accept-Language") == ["vi"]
    stats = crawler.stats.get_stats()
    assert stats["warc/records"] == 2
    assert stats["warc/responses"] == 1
    assert stats["warc/files"] == 1
    assert stats["warc/bytes"] == path.stat().st_size


def test_skipped_responses_leave_no_pointer(tmp_path: Path):
    middleware, crawler = build_middleware(ARCHIVE_DIR=str(tmp_path))
    request, response = page()
    request.meta["dont_archive"] = True
    request.meta["warc"] = {"record_id": "<urn:uuid:from-an-earlier-hop>"}
    assert middleware.process_response(request, response) is response
    assert "warc" not in request.meta

    request, response = page(flags=["cached"])
    middleware.process_response(request, response)
    request, response = page("data:text/html,hello")
    middleware.process_response(request, response)

    middleware.spider_closed()
    assert not (tmp_path / "warc").exists()
    stats = crawler.stats.get_stats()
    assert stats["warc/skipped"] == 3
    assert stats["warc/skipped/dont_archive"] == 1
    assert stats["warc/skipped/cached"] == 1
    assert stats["warc/skipped/scheme"] == 1


def test_status_line_and_truncation(tmp_path: Path):
    middleware, _ = build_middleware(ARCHIVE_DIR=str(tmp_path))
    request, response = page(status=299, protocol="h2", flags=["dataloss"])
    middleware.process_response(request, response)
    middleware.spider_closed()
    (path,) = (tmp_path / "warc").iterdir()
    record = find(read_warc(path), "response", "/tin/1.html")
    assert record.statusline == "HTTP/2 299"
    with gzip.open(path) as stream:
        # The space before an empty reason phrase is part of the status-line grammar.
        assert b"\r\nHTTP/2 299 \r\n" in stream.read()
    assert record.headers["WARC-Truncated"] == "disconnect"


def test_write_error_is_logged_counted_and_response_returned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    blocker = tmp_path / "file"
    blocker.write_text("")
    middleware, crawler = build_middleware(ARCHIVE_DIR=str(blocker))
    request, response = page()
    with caplog.at_level(logging.ERROR, logger="crawler.middlewares.warc_capture"):
        assert middleware.process_response(request, response) is response
    assert "warc" not in request.meta
    assert crawler.stats.get_value("warc/errors") == 1
    assert f"Could not archive {response.url}" in caplog.text
    middleware.spider_closed()


def test_flatten_headers_one_pair_per_value_latin1():
    headers = Response("http://example.vn", headers={"X-A": [b"1", b"caf\xe9"]}).headers
    assert flatten_headers(headers) == [("X-A", "1"), ("X-A", "café")]


if __name__ == "__main__":
    crawl_main(*sys.argv[1:4])


def test_metadata_signal_writes_a_record_concurrent_to_the_response(tmp_path: Path):
    from crawler.middlewares.warc_capture import WARC_METADATA

    middleware, crawler = build_middleware(ARCHIVE_DIR=str(tmp_path))
    request, response = page()
    middleware.process_response(request, response)
    response.meta["download_latency"] = 0.0123
    links = ["http://127.0.0.1:8080/tin/2.html", "http://127.0.0.1:8080/tin/3.html"]

    crawler.signals.send_catch_log(
        WARC_METADATA, response=response,
        fields={"outlink": links, "article-id": "http://127.0.0.1:8080/tin/1.html",
                "parse-result": "article", "missing": None},
    )
    unarchived = Request("http://127.0.0.1:8080/skip.html", meta={"dont_archive": True})
    middleware.process_response(unarchived, HtmlResponse(unarchived.url, request=unarchived))
    crawler.signals.send_catch_log(WARC_METADATA, response=HtmlResponse(
        unarchived.url, request=unarchived), fields={"outlink": links})
    middleware.spider_closed()

    (path,) = (tmp_path / "warc").iterdir()
    records = read_warc(path)
    metadata = find(records, "metadata", "/tin/1.html")
    assert metadata.headers["WARC-Concurrent-To"] == request.meta["warc"]["record_id"]
    assert metadata.content.decode().splitlines() == [
        "fetchTimeMs: 12",
        f"outlink: {links[0]}",
        f"outlink: {links[1]}",
        "article-id: http://127.0.0.1:8080/tin/1.html",
        "parse-result: article",
    ]
    stats = crawler.stats.get_stats()
    assert stats["warc/metadata"] == 1 and stats["warc/metadata_skipped"] == 1
    assert stats["warc/records"] == 3


def test_open_files_of_a_crashed_crawl_are_recovered_when_the_spider_opens(tmp_path: Path):
    middleware, crawler = build_middleware(ARCHIVE_DIR=str(tmp_path))
    request, response = page()
    middleware.process_response(request, response)
    open_path = middleware._writer.current_path  # a crawl that never closed its file
    crashed = open_path.read_bytes()
    middleware._writer._file.close()
    open_path.write_bytes(crashed + crashed[:-10])  # killed in the middle of a record
    arc = b"filedesc://old.arc 0.0.0.0 20240101000000 text/plain 0\n"
    (tmp_path / "warc" / "old.warc.gz.open").write_bytes(gzip.compress(arc))  # not ours

    successor, crawler = build_middleware(ARCHIVE_DIR=str(tmp_path))
    successor.spider_opened()

    path = tmp_path / "warc" / open_path.name.removesuffix(".open")
    assert sorted(p.name for p in (tmp_path / "warc").iterdir()) == sorted(
        [path.name, "old.warc.gz.open", "quarantine", "recovery-report.jsonl"])
    assert path.read_bytes().startswith(crashed)
    # The first copy whole, then the copy's warcinfo and response; its request was cut.
    assert [r.rec_type for r in read_warc(path)] == ["warcinfo", "response", "request"] + [
        "warcinfo", "response"]
    # The cut request is kept aside, not thrown away.
    (quarantined,) = (tmp_path / "warc" / "quarantine").iterdir()
    assert path.read_bytes() + quarantined.read_bytes() == crashed + crashed[:-10]
    stats = crawler.stats.get_stats()
    assert stats["warc/recovered_files"] == 1
    assert stats["warc/recovered_records"] == 5
    assert stats["warc/recovered_damaged_spans"] == 1
    assert stats["warc/recovered_quarantined_bytes"] == quarantined.stat().st_size
    assert stats["warc/recovery_untouched"] == 1
    assert "warc/recovery_errors" not in stats
    # Its responses now count as originals: the next crawl writes revisits for them.
    from storage.warc_digests import DigestIndex

    index = DigestIndex(tmp_path / "warc-digests.sqlite3")
    original = index.lookup(request.meta["warc"]["payload_digest"])
    index.close()
    assert original is not None and original.record_id == request.meta["warc"]["record_id"]
    assert original.filename == path.name


def test_a_file_that_cannot_be_recovered_is_counted_and_the_others_are(tmp_path: Path):
    middleware, _ = build_middleware(ARCHIVE_DIR=str(tmp_path))
    request, response = page()
    middleware.process_response(request, response)
    middleware.spider_closed()
    (closed,) = (tmp_path / "warc").iterdir()
    data = closed.read_bytes()
    (tmp_path / "warc" / (closed.name + ".open")).write_bytes(data)  # both names: which one?
    (tmp_path / "warc" / "other.warc.gz.open").write_bytes(data)

    successor, crawler = build_middleware(ARCHIVE_DIR=str(tmp_path))
    successor.spider_opened()

    stats = crawler.stats.get_stats()
    assert stats["warc/recovery_errors"] == 1 and stats["warc/recovered_files"] == 1
    assert (tmp_path / "warc" / (closed.name + ".open")).read_bytes() == data
    assert (tmp_path / "warc" / "other.warc.gz").read_bytes() == data


def test_compression_level_setting(tmp_path: Path):
    middleware, _ = build_middleware(ARCHIVE_DIR=str(tmp_path), WARC_COMPRESSION_LEVEL="1")
    assert middleware.compression_level == 1
    with pytest.raises(ValueError, match="WARC_COMPRESSION_LEVEL"):
        build_middleware(ARCHIVE_DIR=str(tmp_path), WARC_COMPRESSION_LEVEL="11")
