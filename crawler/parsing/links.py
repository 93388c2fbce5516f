"""Links of a page made absolute: `PageLinks.absolute` gives what ``urljoin`` gives, faster.

An article page resolves a few links (its canonical URL, every image), and ``urljoin`` parses
the page URL and the link in full each time: a tenth of the profile path on small pages. Links
of the two shapes pages mostly use are resolved directly here; ``urljoin`` takes the rest, so the
result is always the one ``urljoin(page_url, link)`` returns.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

# An absolute http(s) URL with a plain host: ``urljoin`` gives such a link back as it is, once
# printable text and no empty query or fragment ("…?", "…#", "?#", which it drops) are checked.
_PLAIN_ABSOLUTE_RE = re.compile(r"https?://[A-Za-z0-9.\-]+(?::\d+)?(?:[/?#]\S*)?")
# The scheme and host of such a URL, up to its path, query or fragment.
_PLAIN_ORIGIN_RE = re.compile(r"https?://[A-Za-z0-9.\-]+(?::\d+)?(?=[/?#]|$)")


class PageLinks:
    """Resolves the links found on the page at ``url``."""

    __slots__ = ("url", "_origin")

    def __init__(self, url: str) -> None:
        self.url = url
        match = _PLAIN_ORIGIN_RE.match(url)
        if match is not None and url.isprintable():
            # What `urlsplit` reads as scheme and netloc of such a URL, without its cost.
            self._origin = match.group()
        else:
            parts = urlsplit(url)
            plain_base = parts.scheme in ("http", "https") and bool(parts.netloc)
            self._origin = f"{parts.scheme}://{parts.netloc}" if plain_base else None

    def absolute(self, link: str) -> str:
        """``urljoin(self.url, link)``."""
        if self._origin is None or not link.isprintable() or link.endswith(("?", "#")) or (
            "?#" in link
        ):
            return urljoin(self.url, link)
        if link[:1] == "/" and link[1:2] != "/":
            # A path from the site's root: only "." and ".." segments would change it.
            if "/." in link or link[1:2] == "?":
                return urljoin(self.url, link)
            return self._origin + link
        if _PLAIN_ABSOLUTE_RE.fullmatch(link):
            return link
        return urljoin(self.url, link)
