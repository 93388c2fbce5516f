"""A crawl's memory does not grow with the sitemaps and listing pages it reads.

Several monthly sitemaps arrive together and each is read while the scheduler takes its article
requests one by one; a sitemap's parsed tree costs ~1.3 KB per URL (libxml2's own memory, out of
Python's sight), so it must be let go before the first request is handed over. A listing page's
parsed tree must go with the page: not wait, with dozens of others, for Python's collection of
reference cycles.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import weakref

import pytest
from scrapy.http import HtmlResponse, Request, XmlResponse
from scrapy.utils.test import get_crawler

from spiders.baonamdinh import BaoNamDinhSpider
from tests.replica.content import build_site
from tests.replica.pages import render_section_page

ORIGIN = "https://baonamdinh.vn"
URLS = 20_000


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _mallinfo2():
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    try:
        function = libc.mallinfo2
    except AttributeError:
        pytest.skip("needs glibc's mallinfo2 to see libxml2's memory")
    function.restype = _MallInfo2
    return function


def test_a_sitemap_being_read_does_not_hold_its_parsed_tree(tmp_path):
    mallinfo2 = _mallinfo2()
    entries = "".join(
        f"<url><loc>{ORIGIN}/channel/5085/202001/bai-viet-so-{n}-{2500000 + n}/</loc>"
        f"<lastmod>2020-01-{1 + n % 28:02d}T08:00:00+07:00</lastmod></url>\n"
        for n in range(URLS))
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns='
            f'"http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}</urlset>').encode()
    url = f"{ORIGIN}/sitemaps/sitemap-2020-01.xml"
    crawler = get_crawler(BaoNamDinhSpider, settings_dict={"ARCHIVE_DIR": str(tmp_path)})
    spider = BaoNamDinhSpider.from_crawler(crawler)
    response = XmlResponse(url, body=body, request=Request(url))

    def in_use() -> int:
        info = mallinfo2()
        return info.uordblks + info.hblkhd

    before = in_use()
    requests = spider.parse_sitemap(response)
    first = next(requests)  # the scheduler takes requests one by one from here
    held = in_use() - before
    assert first.url.startswith(f"{ORIGIN}/channel/5085/202001/")
    assert held / URLS < 400, f"{held / URLS:.0f} bytes of native memory held per URL"
    assert 1 + sum(1 for _ in requests) == URLS


def test_a_listing_page_is_freed_once_read_without_waiting_for_the_cycle_collector(tmp_path):
    site = build_site(articles=60)
    section = site.sections[0]
    url = f"{ORIGIN}/channel/{section.id}/"
    body = render_section_page(site, section, 1, ORIGIN).encode()
    crawler = get_crawler(BaoNamDinhSpider, settings_dict={"ARCHIVE_DIR": str(tmp_path)})
    spider = BaoNamDinhSpider.from_crawler(crawler)
    response = HtmlResponse(url, body=body, encoding="utf-8", request=Request(url))
    page = weakref.ref(response)
    gc.disable()
    try:
        requests = list(spider.parse_listing(response))
        del response
        assert page() is None, "the page (and its parsed tree) outlives its callback"
    finally:
        gc.enable()
    assert any(request.callback == spider.parse_article for request in requests)
