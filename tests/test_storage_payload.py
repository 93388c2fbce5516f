"""Archived payloads read back: every Content-Encoding the crawl accepts, never past its cap.

Records are written by `storage.warc.WarcWriter` as a crawl writes them (body as received) and
read with `storage.warc_articles.read_payload`, what ``reparse`` and ``sitecheck`` call.
"""

from __future__ import annotations

import gzip
import io
import tracemalloc
from pathlib import Path

import pytest
from scrapy.downloadermiddlewares.httpcompression import ACCEPTED_ENCODINGS
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler import settings
from storage.payload import PayloadError, PayloadTooLarge, record_payload
from storage.warc import WarcWriter
from storage.warc_articles import Capture, latest_captures, read_payload
from tests.encoded_warc import BOMB_ENCODINGS, ENCODERS, archive_articles, bomb, write_response
from tests.replica.content import build_site
from tests.replica.pages import render_article

ORIGIN = "https://baonamdinh.vn"
MiB = 1024 * 1024
CAP = settings.DOWNLOAD_MAXSIZE


def captures(warc_dir: Path) -> dict[str, Capture]:
    return latest_captures(warc_dir, lambda url: True)


@pytest.fixture(scope="module")
def archived(tmp_path_factory):
    warc_dir = tmp_path_factory.mktemp("encoded") / "warc"
    return warc_dir, {entry.encoding: entry for entry in archive_articles(warc_dir, ORIGIN)}


def test_every_encoding_the_crawl_accepts_is_tested():
    accepted = {name.decode() for name in ACCEPTED_ENCODINGS} | {"x-gzip"}
    assert accepted <= set(ENCODERS)


@pytest.mark.parametrize("encoding", list(ENCODERS))
def test_every_content_encoding_reads_back_as_the_page(archived, encoding):
    warc_dir, entries = archived
    entry = entries[encoding]
    site = build_site(articles=len(ENCODERS) + len(BOMB_ENCODINGS))
    html = render_article(site, entry.article, ORIGIN).encode("utf-8")
    assert read_payload(warc_dir, captures(warc_dir)[entry.url], CAP) == html


@pytest.mark.parametrize("encoding", BOMB_ENCODINGS)
def test_a_bomb_stops_at_the_cap_without_inflating_it(tmp_path, encoding):
    # The replica's gzip-bomb: 64 MB of spaces in ~64 KB (gzip) or less (br, zstd).
    url = f"{ORIGIN}/channel/5085/202002/bom-{len(encoding)}/"
    with WarcWriter(tmp_path) as writer:
        write_response(writer, url, bomb(encoding, 64_000_000), encoding)
    capture = captures(tmp_path)[url]
    cap = 4 * MiB
    tracemalloc.start()
    try:
        with pytest.raises(PayloadTooLarge) as refused:
            read_payload(tmp_path, capture, cap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * cap, f"{peak / MiB:.1f} MiB held to refuse a bomb"
    assert "DOWNLOAD_MAXSIZE" in str(refused.value) and encoding in str(refused.value)


def test_an_archived_body_over_the_cap_is_refused_unread(tmp_path):
    url = f"{ORIGIN}/channel/5085/202002/lon-1/"
    with WarcWriter(tmp_path) as writer:
        write_response(writer, url, b"<html>" + b"x" * (2 * MiB), None)
    with pytest.raises(PayloadTooLarge, match="DOWNLOAD_MAXSIZE"):
        read_payload(tmp_path, captures(tmp_path)[url], MiB)
    # No cap (0), as with Scrapy's DOWNLOAD_MAXSIZE = 0.
    assert len(read_payload(tmp_path, captures(tmp_path)[url], 0)) == 2 * MiB + 6


def test_an_unknown_or_broken_encoding_says_why(tmp_path):
    unknown = f"{ORIGIN}/channel/5085/202002/la-1/"
    broken = f"{ORIGIN}/channel/5085/202002/hong-2/"
    with WarcWriter(tmp_path) as writer:
        write_response(writer, unknown, b"\x1f\x9d\x90<html>", "compress")
        write_response(writer, broken, b"\x1f\x8b\x08\x00not gzip at all", "gzip")
    found = captures(tmp_path)
    with pytest.raises(PayloadError, match="unsupported Content-Encoding 'compress'"):
        read_payload(tmp_path, found[unknown], CAP)
    with pytest.raises(PayloadError, match="gzip"):
        read_payload(tmp_path, found[broken], CAP)


def test_a_chunked_record_of_another_tool_is_dechunked_then_decoded():
    # Our writer stores the body Scrapy de-chunked; other tools (warcio's capture_http, wget)
    # archive the chunked transfer coding as sent.
    html = b"<html><body><p>Tin m\xe1\xbb\x9bi</p></body></html>"
    encoded = gzip.compress(html)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                       for part in (encoded[:10], encoded[10:])) + b"0\r\n\r\n"
    stream = io.BytesIO()
    writer = WARCWriter(stream, gzip=True)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html"),
                                          ("Content-Encoding", "gzip"),
                                          ("Transfer-Encoding", "chunked")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(
        f"{ORIGIN}/a/", "response", payload=io.BytesIO(chunked), http_headers=headers))
    stream.seek(0)
    record = next(iter(ArchiveIterator(stream)))
    assert record_payload(record, CAP) == html
