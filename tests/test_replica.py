"""The replica portal serves what a crawler author relies on, and its ground truth is exact."""

from __future__ import annotations

import gzip
import http.client
import re
import struct
import unicodedata
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time, timezone
from email.utils import format_datetime

import pytest
from lxml import etree, html

from tests.replica.content import SEED_ARTICLE_ID, Site, build_site
from tests.replica.process import ReplicaProcess

SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
SEED_DATE_LINE = "Cập nhật lúc19:29, Thứ Tư, 12/02/2020 (GMT+7)"


@dataclass
class Reply:
    """One HTTP response, body exactly as received (no decompression)."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8")


@pytest.fixture(scope="module")
def site() -> Site:
    """Ground truth of the default replica."""
    return build_site()


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaProcess]:
    """One running replica with the default content for the whole module."""
    with ReplicaProcess() as process:
        yield process


def fetch(replica: ReplicaProcess, path_or_url: str, method: str = "GET", **headers: str) -> Reply:
    """Request a path (or an absolute URL on the replica) with raw headers."""
    assert replica.origin is not None
    parts = urllib.parse.urlsplit(urllib.parse.urljoin(replica.origin + "/", path_or_url))
    assert f"{parts.scheme}://{parts.netloc}" == replica.origin, path_or_url
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        connection.request(
            method, parts.path, headers={k.replace("_", "-"): v for k, v in headers.items()}
        )
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def test_build_site_is_deterministic(site: Site) -> None:
    assert build_site() == site
    assert build_site(seed=7) != site


def test_site_shape(site: Site) -> None:
    assert len(site.articles) >= 200
    assert len(site.sections) >= 5
    ids = [article.id for article in site.articles]
    assert len(set(ids)) == len(ids)
    assert all(1_000_000 <= article_id <= 9_999_999 for article_id in ids)
    assert len({article.path for article in site.articles}) == len(ids)
    keys = [(article.published, article.id) for article in site.articles]
    assert keys == sorted(keys, reverse=True)
    for article in site.articles:
        assert article.published.utcoffset().total_seconds() == 7 * 3600
        assert article.published.second == 0
        assert time(6, 0) <= article.published.time() <= time(22, 59)
        assert article.modified >= article.published
        assert re.fullmatch(
            rf"/channel/{article.section.id}/{article.published:%Y%m}/[a-z0-9-]+-{article.id}/",
            article.path,
        )
        assert 2 <= len(article.paragraphs) <= 7 or article.id == SEED_ARTICLE_ID
        assert len(article.images) <= 3
        assert len(article.tags) <= 4
        assert article.published_iso == article.published.strftime("%Y-%m-%dT%H:%M:00+07:00")
    assert len(site.months()) == 8


def test_no_two_articles_share_a_paragraph(site: Site) -> None:
    counts = Counter(p for article in site.articles for p in article.paragraphs)
    assert counts.most_common(1)[0][1] == 1
    leads = [article.lead for article in site.articles]
    assert len(set(leads)) == len(leads)
    assert not set(leads) & set(counts)


def test_seed_article_ground_truth(site: Site) -> None:
    seed = site.seed_article
    assert seed.id == SEED_ARTICLE_ID
    assert seed.title.startswith("Khối thi đua Mặt trận Tổ quốc")
    assert seed.section.name == "Chính trị" and seed.section.id == 5085
    assert seed.path.startswith("/channel/5085/202002/khoi-thi-dua-mat-tran-to-quoc-")
    assert seed.path.endswith(f"-{SEED_ARTICLE_ID}/")
    assert seed.published_iso == "2020-02-12T19:29:00+07:00"
    assert seed.lead.startswith("Chiều 12-2, Khối thi đua")
    assert [p[:10] for p in seed.paragraphs] == ["Năm 2019, ", "Năm 2020, ", "Phát biểu "]
    assert seed.paragraphs[-1].endswith("Đại hội Đảng bộ các cấp./.")
    assert (seed.authors, seed.credit, seed.byline_text) == (
        ["Lam Hồng"],
        "Tin, ảnh",
        "Tin, ảnh: Lam Hồng",
    )
    [image] = seed.images
    assert image.caption.startswith("Đồng chí Trần Văn Chung") and image.credit is None
    assert image.caption_text == image.caption


def test_bylines_cover_every_form(site: Site) -> None:
    credits = Counter(article.credit for article in site.articles)
    for credit in ("Tin, ảnh", "Bài và ảnh", "Bài, ảnh", "Tin và ảnh", "Bài", "Tin", "CTV", None):
        assert credits[credit] > 0, credit
    unsigned = [a for a in site.articles if not a.byline_text]
    assert 5 <= len(unsigned) <= 30
    assert all(a.authors == [] and a.credit is None for a in unsigned)
    assert any(len(a.authors) == 2 and " - " in a.byline_text for a in site.articles)
    assert any(len(a.authors) == 2 and a.byline_text.count(",") == 2 for a in site.articles)
    assert any(a.authors and a.byline_text == a.authors[0] for a in site.articles)
    for article in site.articles:
        for author in article.authors:
            assert author in article.byline_text
            assert 2 <= len(author.split()) <= 3
        if article.credit == "CTV":
            assert article.byline_text == f"{article.authors[0]} (CTV)"
    credited = [image for a in site.articles for image in a.images if image.credit]
    assert any(i.caption_text.endswith(f" Ảnh: {i.credit}") for i in credited)
    assert any(i.caption_text.endswith(f" (Ảnh: {i.credit})") for i in credited)


def test_robots_names_the_sitemap(replica: ReplicaProcess) -> None:
    reply = fetch(replica, "/robots.txt")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/plain")
    lines = reply.text().splitlines()
    assert "User-agent: *" in lines and "Disallow: /tim-kiem/" in lines
    assert f"Sitemap: {replica.origin}/sitemap.xml" in lines


def test_sitemaps_list_every_article_once(replica: ReplicaProcess, site: Site) -> None:
    index = fetch(replica, "/sitemap.xml")
    assert index.headers["Content-Type"] == "application/xml; charset=utf-8"
    tree = etree.fromstring(index.body)
    monthly = tree.xpath("//sm:sitemap/sm:loc/text()", namespaces=SITEMAP_NS)
    assert len(monthly) == len(site.months())
    for lastmod in tree.xpath("//sm:sitemap/sm:lastmod/text()", namespaces=SITEMAP_NS):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\+07:00", lastmod)
    listed: Counter[str] = Counter()
    lastmods: dict[str, str] = {}
    for loc in monthly:
        urlset = etree.fromstring(fetch(replica, loc).body)
        for url in urlset.xpath("//sm:url", namespaces=SITEMAP_NS):
            path = urllib.parse.urlsplit(url.findtext("sm:loc", namespaces=SITEMAP_NS)).path
            listed[path] += 1
            lastmods[path] = url.findtext("sm:lastmod", namespaces=SITEMAP_NS)
    assert set(listed) == {article.path for article in site.articles}
    assert set(listed.values()) == {1}
    assert all(lastmods[a.path] == a.modified_iso for a in site.articles)


def test_section_listings_paginate_over_all_articles(replica: ReplicaProcess, site: Site) -> None:
    for section in site.sections:
        seen: list[str] = []
        url: str | None = section.path
        pages = 0
        while url is not None:
            reply = fetch(replica, url)
            assert reply.status == 200, url
            tree = html.fromstring(reply.text())
            items = tree.cssselect("div.list-news div.item a.title")
            assert len(items) <= 15
            seen += [urllib.parse.urlsplit(a.get("href")).path for a in items]
            next_links = tree.cssselect("div.paging a.next")
            url = next_links[0].get("href") if next_links else None
            pages += 1
        expected = [article.path for article in site.articles_in_section(section)]
        assert seen == expected, section.name
        assert pages == max(1, -(-len(expected) // 15))
    assert fetch(replica, f"{site.sections[0].path}page/99/").status == 404


def test_home_lists_the_newest_articles(replica: ReplicaProcess, site: Site) -> None:
    tree = html.fromstring(fetch(replica, "/").text())
    titles = [a.text_content() for a in tree.cssselect("div.list-news div.item a.title")]
    assert titles == [article.title for article in site.articles[:30]]
    menu = {a.get("href") for a in tree.cssselect("ul.main-menu a")}
    assert {replica.url(section.path) for section in site.sections} <= menu


def test_rss_feeds_parse(replica: ReplicaProcess, site: Site) -> None:
    reply = fetch(replica, "/rss/home.rss")
    assert reply.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    items = etree.fromstring(reply.body).findall("channel/item")
    assert len(items) == 50
    first = site.articles[0]
    assert items[0].findtext("link") == first.url(replica.origin)
    assert items[0].findtext("description") == first.lead
    assert items[0].findtext("pubDate") == first.published.strftime("%a, %d %b %Y %H:%M:00 +0700")
    section = site.sections[1]
    section_items = etree.fromstring(fetch(replica, section.rss_path).body).findall("channel/item")
    assert len(section_items) == min(30, len(site.articles_in_section(section)))


def test_seed_article_page_shows_the_example_noise(replica: ReplicaProcess, site: Site) -> None:
    seed = site.seed_article
    reply = fetch(replica, seed.path)
    assert reply.status == 200
    page = reply.text()
    assert f'<div class="detail-time">{SEED_DATE_LINE}</div>' in page
    assert page.count(seed.images[0].caption) == 2
    assert seed.byline_text in page
    tree = html.fromstring(page)
    content = tree.cssselect("div.detail-content")[0]
    lines = [element.text_content().strip() for element in content]
    lone = [line for line in lines if line in {",", "."}]
    assert lone == [",", ",", ".", ",", ",", ","]
    assert tree.cssselect("div.detail-tags")[0].text_content() == ","
    assert tree.cssselect("div.detail-sapo")[0].text_content() == seed.lead
    assert tree.cssselect("link[rel=canonical]")[0].get("href") == seed.url(replica.origin)


def test_article_pages_carry_the_ground_truth(replica: ReplicaProcess, site: Site) -> None:
    for article in site.articles[::8]:
        reply = fetch(replica, article.path)
        content_type = reply.headers["Content-Type"]
        page = reply.text()
        assert content_type == "text/html; charset=utf-8" or '<meta charset="utf-8">' in page
        # Parse decoded text: from bytes, lxml would guess latin-1 on pages without the meta.
        tree = html.fromstring(page)
        assert tree.cssselect("h1.detail-title")[0].text_content() == article.title
        assert tree.cssselect("div.detail-sapo")[0].text_content() == article.lead
        content = tree.cssselect("div.detail-content")[0]
        texts = [
            unicodedata.normalize("NFC", p.text_content()).strip() for p in content.xpath("./p")
        ]
        assert all(paragraph in texts for paragraph in article.paragraphs)
        if article.byline_text:
            assert texts[texts.index(article.paragraphs[-1]) + 1] == article.byline_text
        captions = [td.text_content() for td in content.cssselect("td.image-caption")]
        assert captions == [image.caption_text for image in article.images]
        tags = [a.text_content() for a in tree.cssselect("div.detail-tags a")]
        assert tags == article.tags
        assert 3 <= len(tree.cssselect("div.related-news li")) <= 5


def test_gzip_is_served_when_asked(replica: ReplicaProcess, site: Site) -> None:
    path = site.articles[3].path
    plain = fetch(replica, path)
    packed = fetch(replica, path, Accept_Encoding="gzip, deflate")
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding"
    assert int(packed.headers["Content-Length"]) == len(packed.body) < len(plain.body)
    assert gzip.decompress(packed.body) == plain.body
    assert packed.headers["ETag"] != plain.headers["ETag"]
    refused = fetch(replica, path, Accept_Encoding="gzip;q=0")
    assert "Content-Encoding" not in refused.headers


def test_validators_and_conditional_requests(replica: ReplicaProcess, site: Site) -> None:
    article = site.articles[5]
    first = fetch(replica, article.path)
    assert first.headers["Server"] == "replica-nginx"
    assert first.headers["Date"]
    assert int(first.headers["Content-Length"]) == len(first.body)
    assert re.fullmatch(r'"[0-9a-f]{16}"', first.headers["ETag"])
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    cached = fetch(replica, article.path, If_None_Match=etag)
    assert cached.status == 304 and cached.body == b"" and cached.headers["ETag"] == etag
    assert fetch(replica, article.path, If_None_Match='"0000000000000000"').status == 200
    assert fetch(replica, article.path, If_Modified_Since=last_modified).status == 304
    older = "Mon, 01 Jul 2019 00:00:00 GMT"
    assert fetch(replica, article.path, If_Modified_Since=older).status == 200
    head = fetch(replica, article.path, method="HEAD")
    assert head.status == 200 and head.body == b""
    assert head.headers["Content-Length"] == first.headers["Content-Length"]
    assert head.headers["ETag"] == etag


def test_last_modified_is_the_articles_modified_time(replica: ReplicaProcess, site: Site) -> None:
    article = next(a for a in site.articles if a.modified != a.published)
    reply = fetch(replica, article.path, method="HEAD")
    expected = format_datetime(article.modified.astimezone(timezone.utc), usegmt=True)
    assert reply.headers["Last-Modified"] == expected
    listing = fetch(replica, "/sitemap.xml", method="HEAD")
    newest = max(a.modified for a in site.articles)
    assert listing.headers["Last-Modified"] == format_datetime(
        newest.astimezone(timezone.utc), usegmt=True
    )


def test_charset_is_declared_in_header_or_meta(replica: ReplicaProcess, site: Site) -> None:
    bare = [a for a in site.articles if not a.layout.header_charset]
    no_meta = [a for a in site.articles if not a.layout.meta_charset]
    assert 0.1 <= len(bare) / len(site.articles) <= 0.3
    assert 0.15 <= len(no_meta) / len(site.articles) <= 0.35
    assert not {a.id for a in bare} & {a.id for a in no_meta}
    reply = fetch(replica, bare[0].path)
    assert reply.headers["Content-Type"] == "text/html"
    assert '<meta charset="utf-8">' in reply.text()


def test_images_are_jpeg(replica: ReplicaProcess, site: Site) -> None:
    image = site.seed_article.images[0]
    reply = fetch(replica, image.src, Accept_Encoding="gzip")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "image/jpeg"
    assert "Content-Encoding" not in reply.headers
    markers = _jpeg_markers(reply.body)
    assert markers[0] == 0xD8 and markers[-1] == 0xD9
    assert {0xC0, 0xC4, 0xDA, 0xDB} <= set(markers)


def test_unknown_paths_are_404(replica: ReplicaProcess) -> None:
    for path in ("/no-such-page/", "/channel/9999/", "/channel/5085/page/1/", "/uploads/x.jpg"):
        reply = fetch(replica, path)
        assert reply.status == 404, path
        assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
        assert int(reply.headers["Content-Length"]) == len(reply.body)


def test_links_follow_the_host_header(replica: ReplicaProcess, site: Site) -> None:
    reply = fetch(replica, "/robots.txt", Host="portal.example:8080")
    assert "Sitemap: http://portal.example:8080/sitemap.xml" in reply.text()
    page = fetch(replica, site.articles[0].path, Host="portal.example:8080").text()
    assert f'href="http://portal.example:8080{site.articles[0].path}"' in page


def test_stats_count_requests(replica: ReplicaProcess, site: Site) -> None:
    replica.reset_stats()
    assert replica.stats() == {"requests": {}, "origins": {}, "total": 0}
    for _ in range(3):
        fetch(replica, "/robots.txt")
    fetch(replica, site.articles[0].path, method="HEAD")
    fetch(replica, "/missing")
    stats = replica.stats()
    assert stats["requests"] == {"/robots.txt": 3, site.articles[0].path: 1, "/missing": 1}
    assert stats["total"] == 5
    # By the origin the client named (Host): another name for the same server counts apart.
    fetch(replica, "/robots.txt", Host="localhost:8080")
    assert replica.stats()["origins"] == {replica.origin: 5, "http://localhost:8080": 1}


def _jpeg_markers(data: bytes) -> list[int]:
    """Walk the JPEG segments up to the scan, then expect EOI at the end."""
    markers = []
    position = 0
    while position < len(data):
        assert data[position] == 0xFF, position
        marker = data[position + 1]
        markers.append(marker)
        if marker in (0xD8, 0xD9):
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        position += 2 + length
        if marker == 0xDA:
            # Entropy-coded data runs until the EOI marker.
            position = data.index(b"\xff\xd9", position)
    return markers
