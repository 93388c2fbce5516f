"""Báo Điện tử Chính phủ (baochinhphu.vn), the government's news portal.

Articles live at ``/<slug>-102<yymmddhhmmss + 6 digits>.htm``; the date line reads ``01/03/2026
09:51``; the sapo starts with ``(Chinhphu.vn) -``. Section listings page by script: the page
itself gives the URL ``/timelinelist/{0}/{1}.htm`` with the zone of ``#hdZoneId``.
"""

from __future__ import annotations

from spiders.base import PortalSpider
from spiders.platforms.timeline_cms import timeline_cms_profile

PROFILE = timeline_cms_profile(
    site_id="baochinhphu",
    name="Báo Điện tử Chính phủ",
    domains=("baochinhphu.vn",),
    base_url="https://baochinhphu.vn/",
    # Discovery: feeds and sections linked from the saved pages; no sitemap is linked there.
    feed_urls=("/chinh-sach-va-cuoc-song/chinh-sach-moi.rss",),
    listing_urls=("/chinh-sach-va-cuoc-song/chinh-sach-moi.htm", "/chinh-tri.htm", "/kinh-te.htm"),
    article_url_pattern=r"^/[a-z0-9-]+-102\d{15}\.htm$",
    listing_url_pattern=r"^/([a-z-]+(/[a-z-]+)?|timelinelist/\d+/\d+)\.htm$",
    listing_article_links=("a.box-stream-link-title, a.box-category-link-title",),
    section=(".detail-breadcrumb a",),
)


class BaoChinhPhuSpider(PortalSpider):
    """Crawl baochinhphu.vn."""

    name = "baochinhphu"
    profile = PROFILE
