"""HTML documents: bytes to text to a Lexbor tree, and the page metadata every extractor reads.

Decoding follows the order a browser uses (byte order mark, the HTTP ``Content-Type`` charset,
``<meta charset>``), then falls back to bs4's ``UnicodeDammit`` detection instead of assuming
latin-1: a Vietnamese page with no declared charset must not turn into mojibake. The tree is
Lexbor's (selectolax), an HTML5 parser: pages are built as browsers build them, and parsing
costs a third of libxml2's on the large pages of news portals, where it is most of an
extraction. trafilatura, on the generic path, parses the decoded text with lxml itself.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode
from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    http_content_type_encoding,
    read_bom,
)

# Tags whose content is never article text.
SCRIPT_LIKE = ("script", "style", "noscript", "template", "iframe", "form", "button", "svg")

# Bytes checked per slice by `_valid_utf8`.
_UTF8_CHECK_SLICE = 16384

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
        # bs4 costs ~70 ms of start-up to import; only legacy-encoded pages need it.
        from bs4 import UnicodeDammit

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


def _reads_as_utf8(html: bytes, content_type: str | None) -> bool:
    """Whether `decode_html` would read these bytes as UTF-8 (then Lexbor may take them as is).

    A page declared UTF-8 always is (invalid sequences become U+FFFD, which Lexbor's decoder
    does as Python's ``"replace"``: one per maximal invalid subpart). A page that declares
    nothing, or carries a server's default Western label, is when its bytes are valid UTF-8
    (`decode_html`'s detection and mislabelling rules; plain ASCII reads the same either way).
    A byte order mark is left to `decode_html`.
    """
    if read_bom(html)[0] is not None:
        return False
    declared = _declared_encoding(html, content_type)
    if declared == "utf-8":
        return True
    if declared is None or declared in _DEFAULT_LABELS:
        return html.isascii() or _valid_utf8(html)
    return False


def _lexbor_tree(html: bytes | str, content_type: str | None) -> LexborHTMLParser:
    """Bytes decoded as `decode_html` says (those it reads as UTF-8 go to Lexbor as they are)."""
    if isinstance(html, bytes) and not _reads_as_utf8(html, content_type):
        html = decode_html(html, content_type)
    return LexborHTMLParser(html)


def parse_html(html: bytes | str, content_type: str | None = None) -> LexborHTMLParser:
    """Parse a page into a Lexbor (HTML5) document; ``<br>`` becomes a space.

    Lexbor builds the tree as browsers do, three times faster than libxml2 on news pages.
    Comments stay in the tree (element text never includes them).
    """
    tree = _lexbor_tree(html, content_type)
    for br in tree.css("br"):
        _line_break_as_space(br)
    return tree


def _line_break_as_space(br: LexborNode) -> None:
    # A line break separates words: without a space, element text would run them together.
    br.replace_with(" ")


# What `read_page` takes out of the page or reads, in one walk of it: each selector run by
# Lexbor walks the whole tree, and on a news page one walk costs a sixth of the parse.
_READ_IN_ONE_WALK = ", ".join(("br", "meta[content]", "link[href]", *SCRIPT_LIKE))
_READ_WITH_LINKS = _READ_IN_ONE_WALK + ", a[href]"


@dataclass(frozen=True)
class Page:
    """A parsed page, without scripts, styles and forms, and what its markup says about it."""

    tree: LexborHTMLParser
    json_ld: list[dict]
    metas: PageMeta
    # The ``href`` of every ``<link rel="canonical">``, in document order.
    canonical: list[str]
    # The ``href`` of every ``<a>``, in document order, as written (when asked for: `read_page`).
    hrefs: list[str] | None = None


def read_page(html: bytes | str, content_type: str | None = None, *, hrefs: bool = False) -> Page:
    """The page parsed, its JSON-LD read, its script-like elements removed, in one walk.

    Scripts are read before they go; ``<meta>`` tags inside removed elements are skipped when
    looked up (`PageMeta.get`), as they would be had the tree been stripped first. ``hrefs``:
    also list every link target in the same walk (links in forms and ``<noscript>`` included, as
    in the page as served), so a crawl need not parse the page again to list its outlinks.
    """
    tree = _lexbor_tree(html, content_type)
    metas, links, scripts, removed = [], [], [], []
    anchors: list[str] | None = [] if hrefs else None
    for element in tree.css(_READ_WITH_LINKS if hrefs else _READ_IN_ONE_WALK):
        tag = element.tag
        if tag == "a":
            anchors.append(element.attrs["href"] or "")  # a bare ``href``: None in Lexbor
        elif tag == "br":
            _line_break_as_space(element)
        elif tag == "meta":
            metas.append(element)
        elif tag == "link":
            links.append(element)
        else:
            if tag == "script":
                scripts.append(element)
            removed.append(element)
    json_ld = _json_ld_in(scripts)
    for element in removed:
        element.decompose(recursive=False)
    root = tree.root
    canonical = [
        attrs.get("href") for link in links
        if (attrs := link.attributes).get("rel") == "canonical" and _attached(link, root)
    ]
    return Page(tree, json_ld, PageMeta(root, metas), canonical, anchors)


def _attached(element: LexborNode | None, root: LexborNode) -> bool:
    """Whether ``element`` is still in the tree under ``root``."""
    root_id = root.mem_id  # `==` on nodes compares their serialized HTML
    while element is not None:
        if element.mem_id == root_id:
            return True
        element = element.parent
    return False


def element_text(element: LexborNode) -> str:
    """All text inside an element (comments excluded), as the page has it."""
    return element.text()


def attribute(element: LexborNode, name: str) -> str | None:
    """One attribute of an element; None when it has none by that name."""
    return element.attrs.get(name)


def drop(element: LexborNode) -> None:
    """Take an element out of the tree, whole: it can still be read, the page no longer has it.

    The text after it stays: Lexbor keeps it in a node of its own (lxml's ``tail``).
    """
    if element.parent is not None:
        element.decompose(recursive=False)


def block_texts(container: LexborNode) -> list[str]:
    """Return the text of each paragraph-like block under ``container``, in document order.

    Inline markup stays inside its paragraph; every block element starts a new one, and text
    written directly in a container between blocks becomes a paragraph of its own.
    """
    blocks: list[str] = []
    buffer: list[str] = []
    # A stack of the open blocks' child iterators, not recursion: HTML5 parsing sets no depth
    # limit, and a page of a few thousand nested <div>s must not exhaust Python's stack.
    open_blocks = [container.iter(include_text=True)]
    while open_blocks:
        for child in open_blocks[-1]:
            tag = child.tag
            if tag == "-text":
                buffer.append(child.text_content or "")
            elif tag in BLOCK_TAGS:
                blocks.append("".join(buffer))
                buffer = []
                open_blocks.append(child.iter(include_text=True))
                break
            elif tag[0] != "-":  # "-comment", "-doctype": no text
                buffer.append(child.text())
        else:
            open_blocks.pop()
            blocks.append("".join(buffer))
            buffer = []
    return blocks


_META_NAME_ATTRIBUTES = ("property", "name", "itemprop")


def meta_content(tree: LexborHTMLParser, *names: str) -> str | None:
    """The first non-empty ``content`` of ``<meta>`` tags named by property, name or itemprop."""
    return PageMeta(tree.root, tree.css("meta[content]")).get(*names)


class PageMeta:
    """The ``<meta>`` tags of one page, read once, for many lookups.

    A lookup skips tags that are no longer in the tree (removed with a script-like element, or
    with a body's furniture dropped by the extractor).
    """

    def __init__(self, root: LexborNode, metas: Iterable[LexborNode]) -> None:
        self._root = root
        self._folded: dict[str, list[tuple[LexborNode, str]]] | None = None
        self._by_name: dict[str, list[tuple[LexborNode, str]]] = {}
        for meta in metas:
            attrs = meta.attributes  # one dict: cheaper than a lookup per name
            value = (attrs.get("content") or "").strip()
            if not value:
                continue
            for attr in _META_NAME_ATTRIBUTES:
                key = attrs.get(attr)
                if key is not None:
                    self._by_name.setdefault(key, []).append((meta, value))

    def get(self, *names: str) -> str | None:
        """The first non-empty ``content`` of the tags named by property, name or itemprop."""
        for name in names:
            for meta, value in self._by_name.get(name, ()):
                if _attached(meta, self._root):
                    return value
        return None

    def get_folded(self, *names: str) -> tuple[str, str] | None:
        """(name, content) of the first tag named, case-insensitively, by one of ``names``.

        ``names`` are given case-folded; pages write ``DC.date``, ``dc.date`` and ``DC.Date``.
        """
        if self._folded is None:
            self._folded = {}
            for key, entries in self._by_name.items():
                self._folded.setdefault(key.casefold(), []).extend(entries)
        for name in names:
            for meta, value in self._folded.get(name, ()):
                if _attached(meta, self._root):
                    return name, value
        return None


# Trailing commas before a closing bracket: the most common way CMSs break their JSON-LD.
_TRAILING_COMMA_RE = re.compile(r",\s*([}\]])")
# What can still be read from a block no repair makes valid: its type and its dates.
_SALVAGED_KEYS_RE = re.compile(
    r'"(?P<key>@type|datePublished|dateModified|dateCreated|uploadDate)"\s*:\s*"(?P<value>[^"]*)"'
)


def _lenient_json(text: str) -> object | None:
    """The JSON value of a JSON-LD block, read as leniently as browsers' consumers read it.

    Raw line breaks and tabs inside strings are accepted (``strict=False``), trailing commas
    removed; a block still invalid (unescaped quotes in a headline) gives a dict of its first
    ``@type`` and its date keys, marked ``"@salvaged": True``, or None when it has none.
    """
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    try:
        return json.loads(_TRAILING_COMMA_RE.sub(r"\1", text), strict=False)
    except ValueError:
        pass
    salvaged: dict = {}
    for match in _SALVAGED_KEYS_RE.finditer(text):
        salvaged.setdefault(match.group("key"), match.group("value"))
    if set(salvaged) - {"@type"}:
        return {**salvaged, "@salvaged": True}
    return None


def _json_ld_in(scripts: Iterable[LexborNode]) -> list[dict]:
    """Every JSON-LD object in ``scripts``, ``@graph`` members flattened (`_lenient_json`)."""
    objects: list[dict] = []
    for script in scripts:
        if "ld+json" not in (script.attrs.get("type") or ""):
            continue
        data = _lenient_json(script.text() or "")
        if data is None:
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
