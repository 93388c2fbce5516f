"""The CMS behind tuoitre.vn, nld.com.vn, baochinhphu.vn and cafef.vn.

Its pages hold the article in ``div.detail-content``, photos in ``<figure>`` with a
``<figcaption>``, and related-article boxes marked ``type="RelatedOneNews"`` or
``type="RelatedNewsBox"`` inside the body. Section listings page by script ("Xem thêm"): page N
is ``/timelinelist/<zone>/N.htm`` (tuoitre: ``/timeline/<zone>/trang-N.htm``), the zone being
the hidden ``#hdZoneId`` input of the section page.
"""

from __future__ import annotations

from typing import Any

from crawler.parsing.profile import SiteProfile

# Boxes of links to other articles that the CMS puts inside the article body.
RELATED_BOXES = ("[type=RelatedOneNews]", "[type=RelatedNewsBox]")

COMMON: dict[str, Any] = {
    "listing_article_links": ("a.box-category-link-title",),
    "listing_page_template": "/timelinelist/{zone}/{page}.htm",
    "listing_zone": ("input#hdZoneId",),
    "max_listing_pages": 50,
    "title": ("h1.detail-title",),
    "lead": ("h2.detail-sapo",),
    "body": ("div.detail-content",),
    "image_blocks": ("figure",),
    "image_caption": ("figcaption",),
    "remove": (*RELATED_BOXES, "script"),
}


def timeline_cms_profile(**fields: Any) -> SiteProfile:
    """A `SiteProfile` with this CMS's values, the site's own ``fields`` replacing them."""
    return SiteProfile(**{**COMMON, **fields})
