"""HTML documents: bytes to text to an lxml tree, and the page metadata every extractor reads.

Decoding follows the order a browser uses (byte order mark, the HTTP ``Content-Type`` charset,
``<meta charset>``), then falls back to bs4's ``UnicodeDammit`` detection instead of assuming
latin-1 as libxml2 would: a Vietnamese page with no declared charset must not turn into mojibake.
"""

from __future__ import annotations

import codecs
import json
import re
import threading

from bs4 import UnicodeDammit
from lxml import etree
from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    http_content_type_encoding,
    read_bom,
)

# Tags whose content is never article text.
SCRIPT_LIKE = ("script", "style", "noscript", "template", "iframe", "form", "button", "svg")

# Plain lxml elements, not `lxml.html`'s: its Python-level element class lookup runs for every
# element touched and costs a third of the parse on small pages. Comments and processing
# instructions are never text.
_HTML_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)
_XML_DECLARATION = re.compile(r"\s*<\?xml")
# Bytes checked per slice by `_valid_utf8`.
_UTF8_CHECK_SLICE = 16384
# libxml2 stops reporting a document's errors after this many: past it, an encoding error may
# have gone unreported (see `_parse_utf8`).
_LIBXML2_MAX_ERRORS = 100
_INVALID_ENCODING = etree.ErrorTypes.ERR_INVALID_ENCODING

# Elements that start a new paragraph when text is read out of a container.
BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol blockquote pre table tr td th section article "
    "figure figcaption header footer aside nav dl dt dd center address main".split()
)


def _detect_encoding(body: bytes) -> str | None:
    # Bytes that decode as UTF-8 are UTF-8 for all practical purposes (legacy 8-bit text with
    # accented letters almost never does), and checking costs far less than statistical
    # detection, which runs at ~40 pages/s with chardet installed.
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return UnicodeDammit(body, is_html=True).original_encoding
    return "utf-8"


# How far into a page w3lib looks for a declaration.
_W3LIB_SCAN_BYTES = 4096
# Labels that servers put on pages by default whatever the bytes are (w3lib names them so).
# (w3lib reports latin-1, iso-8859-1, us-ascii and windows-1252 all as cp1252).
_DEFAULT_LABELS = frozenset({"cp1252"})


# The declaration most pages open their head with.
_UTF8_META = b'<meta charset="utf-8">'
# Markup before it that could make w3lib's scan answer something else, or stop earlier.
_BEFORE_UTF8_META = (b"<!--", b"<?xml", b"meta", b"body")


def _declared_encoding(html: bytes, content_type: str | None) -> str | None:
    """The charset the HTTP header, else the page itself, declares (as w3lib resolves it)."""
    declared = http_content_type_encoding(content_type) if content_type else None
    return declared or _body_declared_encoding(html)


def _body_declared_encoding(html: bytes) -> str | None:
    """`html_body_declared_encoding`, answered at once for the usual ``<meta charset="utf-8">``.

    When nothing before that tag could have a say, w3lib's scan would find it first; the scan
    costs more than parsing a small page's head.
    """
    position = html.find(_UTF8_META, 0, _W3LIB_SCAN_BYTES)
    if position != -1:
        before = html[:position].lower()
        if not any(marker in before for marker in _BEFORE_UTF8_META):
            return "utf-8"
    return html_body_declared_encoding(html)


def _mislabelled_utf8(html: bytes, declared: str | None) -> bool:
    """True when a page declared Western/ASCII is really UTF-8 (Vietnamese text shows it)."""
    if declared not in _DEFAULT_LABELS or html.isascii():
        return False
    try:
        html.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_html(html: bytes | str, content_type: str | None = None) -> str:
    """Return the page as text; ``content_type`` is the HTTP header value when known.

    One exception to the browser's order: a latin-1/windows-1252/ASCII label on bytes that are
    valid, non-ASCII UTF-8 is a server default, not the truth (a Vietnamese page in cp1252 would
    not decode as UTF-8), so such pages are read as UTF-8.
    """
    if isinstance(html, str):
        return html
    declared = _declared_encoding(html, content_type)
    if _mislabelled_utf8(html, declared):
        return html.decode("utf-8").removeprefix("\ufeff")
    if declared == "utf-8" and read_bom(html)[0] is None:
        # What `html_to_unicode` returns for such a page, without finding the declaration again.
        return html.decode("utf-8", "replace")
    _, text = html_to_unicode(content_type, html, auto_detect_fun=_detect_encoding)
    return text


def _valid_utf8(body: bytes) -> bool:
    # Slice by slice: one character beyond the BMP (an emoji) makes a whole-page `str` four
    # bytes per character, and building that costs five times the check on a 500 KB page.
    position, size = 0, len(body)
    try:
        while position < size:
            end = position + _UTF8_CHECK_SLICE
            # Not final before the end: a character cut by the slice is left for the next one.
            position += codecs.utf_8_decode(body[position:end], "strict", end >= size)[1]
    except UnicodeDecodeError:
        return False
    return True


def _may_read_as_utf8(html: bytes, content_type: str | None) -> bool:
    """Whether `decode_html` reads these bytes as UTF-8 if they are valid UTF-8.

    True when there is no byte order mark and the page is declared UTF-8, declares nothing
    (detection then picks UTF-8) or carries a server's default Western label (`decode_html`'s
    mislabelling rule; plain ASCII reads the same under those labels).
    """
    if read_bom(html)[0] is not None:
        return False
    declared = _declared_encoding(html, content_type)
    return declared is None or declared == "utf-8" or declared in _DEFAULT_LABELS


class _Utf8Parsers(threading.local):
    """One UTF-8 parser per thread: `parse_html` reads the error log of its last parse."""

    def __init__(self) -> None:
        # The parser's encoding overrides any `<meta charset>` in the page, as `decode_html`'s
        # choice must.
        self.parser = etree.HTMLParser(
            encoding="utf-8", remove_comments=True, remove_pis=True, collect_ids=False
        )


_utf8_parsers = _Utf8Parsers()


def _parse_utf8(html: bytes) -> etree._Element | None:
    """Parse bytes as UTF-8; None when they are not valid UTF-8 (or hold no element).

    libxml2 reads UTF-8 bytes as they are, where text handed over as `str` is re-encoded first,
    and it reports every invalid sequence (``ERR_INVALID_ENCODING``, replacing it as Python's
    ``"replace"`` does): its error log answers whether the bytes were valid UTF-8 without a
    check of our own, unless the log is full.
    """
    parser = _utf8_parsers.parser
    tree = etree.fromstring(html, parser)
    log = parser.error_log
    if len(log) >= _LIBXML2_MAX_ERRORS:
        valid = _valid_utf8(html)
    else:
        valid = all(error.type != _INVALID_ENCODING for error in log)
    return tree if valid else None


def parse_html(html: bytes | str, content_type: str | None = None) -> etree._Element:
    """Parse a page into an lxml tree; ``<br>`` becomes a space so words never run together.

    Bytes are decoded as `decode_html` says; those it reads as UTF-8 go to libxml2 as they are.
    """
    tree = None
    blank = not html or html.isspace()
    if isinstance(html, bytes) and not blank and _may_read_as_utf8(html, content_type):
        tree = _parse_utf8(html)
    if tree is None and not blank:
        text = decode_html(html, content_type)
        # lxml refuses str input that still carries an XML encoding declaration.
        if _XML_DECLARATION.match(text):
            text = text.split("?>", 1)[-1]
        tree = etree.fromstring(text, _HTML_PARSER) if text and not text.isspace() else None
    if tree is None:
        tree = etree.fromstring("<html></html>", _HTML_PARSER)
    for br in tree.iter("br"):
        br.tail = " " + (br.tail or "")
    return tree


def strip_non_content(tree: etree._Element) -> None:
    """Remove scripts, styles, forms and comments (read JSON-LD before calling this)."""
    # One call, one walk of the tree.
    etree.strip_elements(
        tree, *SCRIPT_LIKE, etree.Comment, etree.ProcessingInstruction, with_tail=False
    )


# XPath's string value is the concatenated text of an element, computed in C: several times
# faster than joining `itertext()` in Python on a whole page.
_STRING_VALUE = etree.XPath("string()", smart_strings=False)
_META_WITH_CONTENT = etree.XPath("//meta[@content]")
_META_NAME_ATTRIBUTES = ("property", "name", "itemprop")


def element_text(element: etree._Element) -> str:
    """All text inside an element."""
    if not len(element):
        # A leaf (most titles, links, inline tags): its text is all there is, and reading it
        # costs a tenth of setting up an XPath evaluation.
        return element.text or ""
    return _STRING_VALUE(element)


def block_texts(container: etree._Element) -> list[str]:
    """Return the text of each paragraph-like block under ``container``, in document order.

    Inline markup stays inside its paragraph; every block element starts a new one, and text
    written directly in a container between blocks becomes a paragraph of its own.
    """
    blocks: list[str] = []
    _add_block_texts(container, blocks)
    return blocks


def _add_block_texts(container: etree._Element, blocks: list[str]) -> None:
    # One list filled by plain recursion: nested generators cost more than the text itself.
    buffer: list[str] = [container.text or ""]
    for child in container:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in BLOCK_TAGS:
            blocks.append("".join(buffer))
            buffer = []
            _add_block_texts(child, blocks)
            buffer.append(child.tail or "")
        else:
            if tag:
                buffer.append(element_text(child))
            buffer.append(child.tail or "")
    blocks.append("".join(buffer))


def meta_content(tree: etree._Element, *names: str) -> str | None:
    """The first non-empty ``content`` of ``<meta>`` tags named by property, name or itemprop."""
    found: dict[str, str] = {}
    for meta in _META_WITH_CONTENT(tree):
        value = meta.get("content", "").strip()
        if not value:
            continue
        for attr in _META_NAME_ATTRIBUTES:
            key = meta.get(attr)
            if key in names and key not in found:
                found[key] = value
    return next((found[name] for name in names if name in found), None)


class PageMeta:
    """The ``<meta>`` tags of one page, read in one scan: `meta_content` for many lookups.

    Built after `strip_non_content`; a lookup skips tags that were removed from the tree since
    (a body's furniture dropped by the extractor), so it answers as `meta_content` would then.
    """

    def __init__(self, tree: etree._Element) -> None:
        self._root = tree
        self._by_name: dict[str, list[tuple[etree._Element, str]]] = {}
        for meta in tree.iter("meta"):
            value = (meta.get("content") or "").strip()
            if not value:
                continue
            for attr in _META_NAME_ATTRIBUTES:
                key = meta.get(attr)
                if key is not None:
                    self._by_name.setdefault(key, []).append((meta, value))

    def get(self, *names: str) -> str | None:
        """The first non-empty ``content`` of the tags named by property, name or itemprop."""
        for name in names:
            for meta, value in self._by_name.get(name, ()):
                if self._attached(meta):
                    return value
        return None

    def _attached(self, element: etree._Element) -> bool:
        while element is not None:
            if element is self._root:
                return True
            element = element.getparent()
        return False


def json_ld_objects(tree: etree._Element) -> list[dict]:
    """Every JSON-LD object on the page, ``@graph`` members flattened; broken blocks skipped."""
    objects: list[dict] = []
    # `iter` filters by tag in C: cheaper than the XPath `//script[contains(@type, "ld+json")]`.
    scripts = (s for s in tree.iter("script") if "ld+json" in (s.get("type") or ""))
    for script in scripts:
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                objects.append(item)
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)
    return objects
