"""CafeF (cafef.vn), business and markets news.

Articles live at ``/<slug>-188<yymmddhhmmss + 6 digits>.chn`` (188 is the site's CMS id); the
date line reads ``07-03-2026 - 00:01 AM``; metadata times carry no offset (read in the site's
zone); the author is in JSON-LD. Section listings page by script ("Xem thêm"): page N is
``/timelinelist/<zone>/N.chn``, the zone being the hidden ``#hdZoneId`` input (baochinhphu.vn's
CMS convention; not on the saved page: check it live).
"""

from __future__ import annotations

from spiders.base import PortalSpider
from spiders.platforms.timeline_cms import RELATED_BOXES, timeline_cms_profile

PROFILE = timeline_cms_profile(
    site_id="cafef",
    name="CafeF",
    domains=("cafef.vn",),
    base_url="https://cafef.vn/",
    # Discovery: feeds and sections linked from the saved pages; no sitemap is linked there.
    feed_urls=("/thi-truong-chung-khoan.rss",),
    listing_urls=("/thi-truong-chung-khoan.chn", "/bat-dong-san.chn", "/doanh-nghiep.chn"),
    article_url_pattern=r"^/[a-z0-9-]+-188\d{14,15}\.chn$",
    listing_url_pattern=r"^/([a-z-]+|timelinelist/\d+/\d+)\.chn$",
    listing_article_links=(".box-category-item h3 a, .cate-hl-row2 h3 a",),
    listing_page_template="/timelinelist/{zone}/{page}.chn",
    title=("h1.title",),
    lead=("h2.sapo",),
    published=("span.pdate",),
    section=("a.category-page__name",),
    # No byline selector: JSON-LD names the author ("Theo Hồ Hương" becomes Hồ Hương).
    remove=(*RELATED_BOXES, ".link-content-footer", "script"),
)


class CafeFSpider(PortalSpider):
    """Crawl cafef.vn."""

    name = "cafef"
    profile = PROFILE
