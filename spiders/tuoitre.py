"""Tuổi Trẻ (tuoitre.vn), national news.

Articles live at ``/<slug>-<yyyymmddhhmmss + 3 digits>.htm``; the date line reads ``07/03/2026
08:01 GMT+7``; the authors (upper case) come from JSON-LD, as the visible byline shows one name
and "và 1 tác giả khác". Section listings page by script ("Xem thêm"): page N is
``/timeline/<zone>/trang-N.htm``, the zone being the hidden ``#hdZoneId`` input (the same CMS
as nld.com.vn and baochinhphu.vn). That URL is not on the saved page: check it live.
"""

from __future__ import annotations

from spiders.base import PortalSpider
from spiders.platforms.timeline_cms import RELATED_BOXES, timeline_cms_profile

PROFILE = timeline_cms_profile(
    site_id="tuoitre",
    name="Tuổi Trẻ",
    domains=("tuoitre.vn",),
    base_url="https://tuoitre.vn/",
    # Discovery: feeds and sections linked from the saved pages; no sitemap is linked there.
    feed_urls=("/rss/kinh-doanh.rss",),
    listing_urls=("/thoi-su.htm", "/the-gioi.htm", "/kinh-doanh.htm", "/phap-luat.htm"),
    article_url_pattern=r"^/[a-z0-9-]+-\d{17}\.htm$",
    article_date_pattern=r"-(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})\d{9}\.htm$",
    listing_url_pattern=r"^/([a-z-]+|timeline/\d+/trang-\d+)\.htm$",
    listing_page_template="/timeline/{zone}/trang-{page}.htm",
    section=("div.detail-cate a",),
    tags=(".detail-tab a",),
    # No byline selector: the page lists its authors in JSON-LD (Person), which is read instead.
    image_caption=("figcaption", ".PhotoCMS_Caption"),
    remove=(*RELATED_BOXES, ".readmore-body-box", "script"),
)


class TuoiTreSpider(PortalSpider):
    """Crawl tuoitre.vn."""

    name = "tuoitre"
    profile = PROFILE
