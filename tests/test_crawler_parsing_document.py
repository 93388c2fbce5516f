"""Decoding and parsing: shortcuts answer as the general path would; the tree reads as pages do."""

from __future__ import annotations

import pytest
from w3lib.encoding import html_body_declared_encoding

from crawler.parsing.document import _body_declared_encoding, drop, parse_html, read_page

HEADS = (
    b'<!DOCTYPE html>\n<html lang="vi"><head>\n<meta charset="utf-8"><title>T</title>',
    b'<!-- <meta charset="utf-8"> --><meta charset="windows-1258">',
    b'<meta charset="windows-1258"><meta charset="utf-8">',
    b'<?xml version="1.0" encoding="iso-8859-1"?><meta charset="utf-8">',
    b'<html><BODY><meta charset="utf-8">',
    b'<META http-equiv="content-type" content="text/html; charset=latin-1">'
    b'<meta charset="utf-8">',
    b"<title>" + b"x" * 4080 + b'</title><meta charset="utf-8">',
    b'<title>Somebody</title><meta charset="utf-8">',
    b"<p>no declaration</p>",
)


@pytest.mark.parametrize("head", HEADS)
def test_declared_encoding_is_w3libs(head):
    assert _body_declared_encoding(head) == html_body_declared_encoding(head)


@pytest.mark.parametrize("page", [
    b"", b" \n\t", b"<!-- only a comment -->", "<p>Việt Nam</p>".encode(),
    b'<?xml version="1.0" encoding="utf-8"?>\n<html><body><p>x</p></body></html>',
    "<p>Việt Nam</p>".encode("utf-8-sig"),
])
def test_bytes_and_text_parse_to_the_same_tree(page):
    text = page.decode("utf-8-sig")
    assert parse_html(page).html == parse_html(text).html


# Invalid UTF-8 of every kind: stray continuation and lead bytes, cut sequences, overlong forms,
# encoded surrogates, code points past U+10FFFF.
INVALID_UTF8 = (
    b"\xff", b"\xe1\xbb", b"\xe1", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
    b"\xf0\x9f\x98", b"a\x80b", b"\xe1\xbb\x87\xe1", b"\xe1\xbb\xe1\xbb\x87",
)


@pytest.mark.parametrize("sequence", INVALID_UTF8)
def test_invalid_utf8_reads_as_pythons_replace_decoding(sequence):
    # The bytes go to Lexbor undecoded: its replacement characters must be the ones the
    # decoding path (`decode_html`) would give.
    page = b'<meta charset="utf-8"><p>Vi\xe1\xbb\x87t ' + sequence + b" Nam</p>"
    expected = page.decode("utf-8", "replace").split("<p>")[1].removesuffix("</p>")
    assert parse_html(page).css_first("p").text() == expected


def test_a_line_break_separates_words():
    tree = parse_html(b"<p>Nam<br>\xc4\x90\xe1\xbb\x8bnh<br/>2020</p>")
    assert tree.css_first("p").text() == "Nam \u0110\u1ecbnh 2020"


def test_read_page_reads_scripts_then_takes_them_out():
    page = read_page(
        b'<html lang="vi"><head><meta charset="utf-8">'
        b'<meta property="og:title" content="Real title">'
        b'<link rel="canonical" href="/a-1.html"><link rel="stylesheet" href="/s.css">'
        b'<script type="application/ld+json">{"@graph": [{"headline": "H"}]}</script>'
        b'<noscript><meta name="author" content="Not in the page"></noscript>'
        b"</head><body><p>Text<script>var x = 1;</script> here</p>"
        b'<form><script type="application/ld+json">{"author": "A"}</script>'
        b"<button>Send</button></form><style>p {}</style></body></html>"
    )
    assert page.json_ld == [{"@graph": [{"headline": "H"}]}, {"headline": "H"}, {"author": "A"}]
    assert page.metas.get("og:title") == "Real title"
    assert page.metas.get("author") is None  # it sat in a <noscript>, which is gone
    assert page.canonical == ["/a-1.html"]
    assert page.tree.body.text() == "Text here"
    assert page.tree.css("script, style, form, button, noscript") == []


def test_a_meta_removed_with_the_body_furniture_stops_counting():
    page = read_page(b'<div class="related"><meta itemprop="datePublished" content="2020-01-01">'
                     b"</div><p>x</p>")
    assert page.metas.get("datePublished") == "2020-01-01"
    drop(page.tree.css_first(".related"))
    assert page.metas.get("datePublished") is None
