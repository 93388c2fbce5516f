"""The outlinks of an article's metadata record are the page's links joined as urljoin does."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest

from spiders.base import resolve_links

LINKS = ["/", "/a/../b", "/x?y#z", "//other/x", "http://h/x/../y", "https://h2/p", "http:foo", "x",
         "../up", "?page=2", "#top", "", "/a//b", "mailto:x@y", "javascript:void(0)",
         "https://h/a/./b/", "/tin-tức/", "HTTP://H/X", "/%2e%2e/x"]


@pytest.mark.parametrize("base", [
    "http://127.0.0.1:8765/channel/5085/202002/bai-1/", "https://baonamdinh.vn/a/b?x=1#f",
    "http://h/", "http://h", "https://h:443/x/y.htm?q#z", "http://user@h:80/p;params?q",
    "about:blank",
])
def test_links_are_joined_as_urljoin_joins_them(base):
    # Twice: the second time from the cache of links from the root and absolute ones.
    for _ in range(2):
        assert resolve_links(base, LINKS) == [urljoin(base, link) for link in LINKS]
