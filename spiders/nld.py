"""Người Lao Động (nld.com.vn), national news.

Articles live at ``/<slug>-196<yymmddhhmmss + 6 digits>.htm`` (196 is the site's CMS id); the date
line reads ``07/03/2026 08:06 GMT+7``; the sapo starts with ``(NLĐO)-``. Section listings page by
script ("Xem thêm"): page N is ``/timelinelist/<zone>/N.htm``, the zone being the hidden
``#hdZoneId`` input (the CMS of tuoitre.vn and baochinhphu.vn, whose page prints the template;
nld's saved page does not: check it live).
"""

from __future__ import annotations

from spiders.base import PortalSpider
from spiders.platforms.timeline_cms import RELATED_BOXES, timeline_cms_profile

PROFILE = timeline_cms_profile(
    site_id="nld",
    name="Người Lao Động",
    domains=("nld.com.vn",),
    base_url="https://nld.com.vn/",
    # Discovery: feeds and sections linked from the saved pages; no sitemap is linked there.
    feed_urls=("/rss/kinh-te.rss",),
    listing_urls=("/thoi-su.htm", "/quoc-te.htm", "/kinh-te.htm", "/phap-luat.htm"),
    article_url_pattern=r"^/[a-z0-9-]+-196\d{15}\.htm$",
    listing_url_pattern=r"^/([a-z-]+|timelinelist/\d+/\d+)\.htm$",
    section=("div.detail-cate a",),
    byline=(".detail-author .author-info",),
    remove=(*RELATED_BOXES, ".readmore-body-box", "script"),
)


class NldSpider(PortalSpider):
    """Crawl nld.com.vn."""

    name = "nld"
    profile = PROFILE
