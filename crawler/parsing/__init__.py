"""Parsing: pure functions from page bytes to clean Article fields (no Scrapy imports).

``extract_article(html, url, site=None)`` is the entry point: ``site`` names a site profile
(``spiders/<site>.py``); without it the profile is chosen by the URL's domain, and pages no
profile covers take the generic path. Finding the profile loads the site modules
(``crawler/sites.py``, which imports Scrapy), so it is done only when ``extract_article`` is
called; the modules of this package never import Scrapy or ``spiders``, and
`crawler.parsing.article.extract_with_profile` takes a profile already found.
"""

from __future__ import annotations


def extract_article(
    html: bytes | str, url: str, site: str | None = None, content_type: str | None = None
) -> dict:
    """Return the Article fields parsed from one page.

    ``html`` is the page as received (bytes; text is accepted too); ``content_type`` is the HTTP
    ``Content-Type`` header when known, used for the charset.
    """
    # Imported here so that `crawler.parsing.dates` and friends load without the whole extractor,
    # and the package without the site modules.
    from crawler.parsing.article import extract_with_profile
    from crawler.sites import find_profile

    return extract_with_profile(html, url, find_profile(site=site, url=url), content_type)


__all__ = ["extract_article"]
