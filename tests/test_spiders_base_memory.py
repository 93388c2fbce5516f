"""A crawl's memory does not grow with the sitemaps it reads at once.

Several monthly sitemaps arrive together and each is read while the scheduler takes its article
requests one by one; a sitemap's parsed tree costs ~1.3 KB per URL (libxml2's own memory, out of
Python's sight), so it must be let go before the first request is handed over.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import pytest
from scrapy.http import Request, XmlResponse
from scrapy.utils.test import get_crawler

from spiders.baonamdinh import BaoNamDinhSpider

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
