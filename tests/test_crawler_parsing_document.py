"""Decoding and parsing shortcuts answer exactly as the general path they stand in for."""

from __future__ import annotations

import pytest
from w3lib.encoding import html_body_declared_encoding

from crawler.parsing.document import _body_declared_encoding, parse_html

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
