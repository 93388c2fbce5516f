"""Links resolved by `PageLinks` are exactly what ``urljoin`` makes of them."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest

from crawler.parsing.links import PageLinks

BASES = (
    "https://baonamdinh.vn/channel/5085/202002/nam-dinh-abc-123/",
    "http://127.0.0.1:8765/channel/5085/202002/a-1/?page=2#top",
    "HTTPS://Tuoitre.VN/a-b.htm",
    "https://vnexpress.net",
    "https://vnexpress.net?page=2",
    "https://user@vnexpress.net/a/",
    "https://vnexpress.net/a b/\tc",
    "file:///tmp/page.html",
    "/relative/base",
    "",
)

LINKS = (
    "/uploads/2020/02/anh.jpg",
    "/uploads/ảnh chụp.jpg",
    "/uploads/a.jpg?w=600&h=400",
    "/uploads/a.jpg#frag",
    "/uploads/a.jpg?",
    "/uploads/a.jpg#",
    "/uploads/a.jpg?#x",
    "/uploads/./a.jpg",
    "/uploads/../a.jpg",
    "/uploads/a.jpg/..",
    "/?q=1",
    "/",
    "//cdn.example.vn/a.jpg",
    "https://cdn.example.vn/a.jpg",
    "https://cdn.example.vn:8443/a/b;p?x=1#y",
    "http://cdn.example.vn/a.jpg",
    "https://cdn.example.vn",
    "https://cdn.example.vn?x",
    "https://cdn.example.vn/a.jpg?",
    "https://cdn.example.vn/a.jpg#",
    "HTTPS://cdn.example.vn/a.jpg",
    "https://[::1]/a.jpg",
    "https://user@cdn.example.vn/a.jpg",
    "https://cdn.example.vn/a\tb.jpg",
    "https://cdn.example.vn/a\nb.jpg",
    "https://cdn.example.vn/../a.jpg",
    "images/a.jpg",
    "../images/a.jpg",
    "?page=3",
    "#comments",
    "data:image/png;base64,AAAA",
    "javascript:void(0)",
    "mailto:toasoan@baonamdinh.vn",
    " /leading-space.jpg",
    "",
)


@pytest.mark.parametrize("base", BASES)
def test_absolute_is_urljoin(base):
    links = PageLinks(base)
    for link in LINKS:
        assert links.absolute(link) == urljoin(base, link), (base, link)
