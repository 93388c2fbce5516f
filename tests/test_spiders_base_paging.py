"""Listings paged by script ("Xem thêm"): the profile's page template and the zone it needs."""

from __future__ import annotations

from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from spiders.tuoitre import TuoiTreSpider

ARTICLE = "/chien-su-day-gia-hoa-nhap-khau-dip-8-3-tang-manh-20260307075519174.htm"


def _listing(url: str, body: str, zone: str | None = None) -> HtmlResponse:
    request = Request(url, meta={"listing_zone": zone} if zone else {})
    return HtmlResponse(url, body=body.encode(), encoding="utf-8", request=request)


def _follow(response: HtmlResponse, page: int) -> list[Request]:
    crawler = get_crawler(TuoiTreSpider, {"INCREMENTAL": False, "JOBDIR": "", "ARCHIVE_DIR": "."})
    spider = TuoiTreSpider.from_crawler(crawler)
    requests = spider.parse_listing(response, page=page)
    return [request for request in requests if request.callback == spider.parse_listing]


def test_the_zone_of_the_first_page_is_carried_to_the_pages_after_it():
    first = _listing("https://tuoitre.vn/kinh-doanh.htm",
                     '<input id="hdZoneId" value="11"><a class="box-category-link-title" '
                     f'href="{ARTICLE}">x</a>')
    [second] = _follow(first, page=1)
    assert second.url == "https://tuoitre.vn/timeline/11/trang-2.htm"
    # Page 2 is a bare fragment: no hidden input, the zone comes with the request.
    fragment = _listing(
        second.url, '<a class="box-category-link-title" href="/hoa-20260306075519175.htm">y</a>',
        zone=second.meta["listing_zone"])
    [third] = _follow(fragment, page=2)
    assert third.url == "https://tuoitre.vn/timeline/11/trang-3.htm"


def test_no_zone_no_next_page():
    response = _listing("https://tuoitre.vn/kinh-doanh.htm",
                        f'<a class="box-category-link-title" href="{ARTICLE}">x</a>')
    assert _follow(response, page=1) == []
