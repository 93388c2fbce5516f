"""Báo Nam Định (baonamdinh.vn), the provincial paper of Nam Định.

Articles live at ``/channel/<section id>/<yyyymm>/<slug>-<article id>/``; the date line reads
``Cập nhật lúc19:29, Thứ Tư, 12/02/2020 (GMT+7)``; the byline is the last paragraph of
``#contentdetail``; captions sit in ``table.image`` and are often printed again as a paragraph.
"""

from __future__ import annotations

from crawler.parsing.profile import SiteProfile
from spiders.base import PortalSpider

SECTIONS = (5085, 5086, 5087, 5088, 5089, 5090, 5091)

PROFILE = SiteProfile(
    site_id="baonamdinh",
    name="Báo Nam Định",
    domains=("baonamdinh.vn",),
    base_url="https://baonamdinh.vn/",
    sitemap_urls=("/sitemap.xml",),
    feed_urls=("/rss/home.rss",),
    listing_urls=("/", *(f"/channel/{section}/" for section in SECTIONS)),
    article_url_pattern=r"^/channel/\d+/\d{6}/[^/]+-\d+/?$",
    article_date_pattern=r"^/channel/\d+/(?P<year>\d{4})(?P<month>\d{2})/",
    listing_url_pattern=r"^/channel/\d+/(page/\d+/)?$",
    listing_article_links=(".list-news .item a.title",),
    listing_next_page=(".paging a.next",),
    title=("h1.detail-title",),
    lead=(".detail-sapo",),
    body=("#contentdetail", ".detail-content"),
    published=(".detail-time",),
    section=(".breadcrumb a.cate",),
    tags=(".detail-tags a",),
    image_blocks=("table.image", "figure"),
    image_caption=(".image-caption", "figcaption"),
    remove=(".ads", ".share-bar", ".related-news", ".detail-tags"),
    title_suffixes=(" - Báo Nam Định điện tử",),
)


class BaoNamDinhSpider(PortalSpider):
    """Crawl baonamdinh.vn (or a mirror given with ``-a base_url=``)."""

    name = "baonamdinh"
    profile = PROFILE
