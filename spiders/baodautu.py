"""Báo Đầu tư (baodautu.vn), business news.

Articles live at ``/<slug>-d<6 digit id>.html``; the page has no ``<h1>`` (the headline is
``div.title-detail``) and no machine-readable date: only ``span.post-time`` (`` - 07/03/2026
08:47``); tags are ``#``-prefixed links; photos sit in ``table.MASTERCMS_TPL_TABLE`` with a
``td.media-caption``. Section listings (``/<section>-d<n>/``) show no paging links on the saved
page; page N is taken to be ``/<section>-d<n>/pN`` (not seen there: check it live).
"""

from __future__ import annotations

from crawler.parsing.profile import SiteProfile
from spiders.base import PortalSpider

PROFILE = SiteProfile(
    site_id="baodautu",
    name="Báo Đầu tư",
    domains=("baodautu.vn",),
    base_url="https://baodautu.vn/",
    # Discovery: sections linked from the saved pages; /rssMain.html is a page of feeds, not one.
    listing_urls=("/tai-chinh-chung-khoan-d6/", "/kinh-doanh-d3/", "/thi-truong-dia-oc-d7/"),
    article_url_pattern=r"^/[a-z0-9-]+-d\d{5,}\.html$",
    listing_url_pattern=r"^/[a-z-]+-d\d+/(p\d+)?$",
    listing_article_links=(".desc_list_news_home a.fbold, article a.title_thumb_square",),
    listing_page_template="p{page}",
    title=("div.title-detail",),
    lead=("div.sapo_detail",),
    body=("div#content_detail_news",),
    published=("span.post-time",),
    tags=("a.tag_detail_item",),
    byline=("a.author",),
    image_blocks=("table.MASTERCMS_TPL_TABLE", "figure"),
    image_caption=("td.media-caption", "figcaption"),
    remove=(".box_tinlienquan", "script"),
)


class BaoDauTuSpider(PortalSpider):
    """Crawl baodautu.vn."""

    name = "baodautu"
    profile = PROFILE
