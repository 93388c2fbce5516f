"""What the portal spider learns about an unknown site's URLs and pages (no Scrapy here).

* `clean_url` takes out what never names another page: the fragment, session ids (``PHPSESSID``,
  ``jsessionid``, ``sid``, ASP.NET's ``(S(…))``), reply and share switches (``replytocom``,
  ``share``) and tracking parameters.
* `url_shape` reduces a URL to its shape: literal words of the directories, ``D4`` for a number
  of four digits, ``S-D`` for a slug ending in an id, ``S`` for a slug, and the query's parameter
  names with ``D``/``S`` values (``/news.asp?CatID=D&NewsID=D``). URLs of one kind on one site
  share a shape, so what one page of a shape turned out to be tells about the others.
* `classify_page` says what a fetched page is, from the page alone: ``article`` (JSON-LD or
  OpenGraph article types; or a dated page whose paragraphs make one article's text), ``listing``
  (many links with headline-like text, collection types), else ``other``.
* `ShapeModel` counts, per shape, the verdicts of fetched pages and the votes of sitemaps and
  feeds, and answers what an unfetched URL most likely is (`ShapeModel.kind_of`).

No settings; the thresholds below are the rule.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urldefrag, urlencode, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

# Parameters that never change what a page is: sessions, reply/share switches, tracking.
SESSION_PARAMS = frozenset({
    "phpsessid", "sid", "sessionid", "session_id", "jsessionid", "aspsessionid", "cfid",
    "cftoken", "replytocom", "share", "fbclid", "gclid", "utm_source", "utm_medium",
    "utm_campaign", "utm_term", "utm_content",
})
_PATH_SESSION = re.compile(r";jsessionid=[^/?#]*|/\(S\([a-z0-9]+\)\)", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_SLUG_ID = re.compile(r"^(?P<slug>.*?[a-z].*?)[-_.]?(?P<id>\d{4,})(?P<ext>\.[a-z]{2,5})?$", re.I)
_EXT = re.compile(r"\.[a-z]{2,5}$", re.IGNORECASE)
# Query parameters that carry an article's id (``NewsID=``, ``?p=`` of WordPress, ``?id=``).
_ARTICLE_ID_PARAM = re.compile(
    r"(?:^|&)(?:id|newsid|news_id|articleid|article_id|postid|post_id|p|nid|aid|itemid|tinid)"
    r"=\d{3,}", re.IGNORECASE)

ARTICLE_TYPES = frozenset({
    "newsarticle", "article", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "liveblogposting",
})
LISTING_TYPES = frozenset({"collectionpage", "itemlist", "searchresultspage", "website"})
# An article's own text: paragraphs of one container, links a small part of them.
MIN_ARTICLE_CHARS = 400
# A container holding this many headline links is a list of articles, not one.
MAX_HEADLINES_IN_BODY = 3
HEADLINE_MIN_WORDS = 5
MIN_LISTING_LINKS = 4
# Shape votes: a shape is decided once it has this many votes, nearly all of one kind.
DECIDED_AFTER = 3
DECIDED_SHARE = 0.9
KINDS = ("article", "listing", "other")

# A visible date with a time of day (12/02/2020 19:29, 19:29 - 12/02/2020, 2020-02-12T19:29).
_DATE_TIME = re.compile(
    r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}\D{0,12}\d{1,2}[:h]\d{2}|\d{1,2}[:h]\d{2}\D{0,24}"
    r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"
)


def clean_url(url: str) -> tuple[str, bool]:
    """``url`` without fragment, session ids and switches; and whether a session id went."""
    url = urldefrag(url)[0]
    parts = urlsplit(url)
    path, removed = _PATH_SESSION.subn("", parts.path)
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(name, value) for name, value in query if name.lower() not in SESSION_PARAMS]
    changed = bool(removed) or len(kept) != len(query)
    if not changed:
        return url, False
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(kept), "")), True


def _segment_shape(segment: str, last: bool, has_query: bool) -> str:
    if segment.isdigit():
        return f"D{len(segment)}" if len(segment) <= 8 else "D"
    match = _SLUG_ID.match(segment)
    if match:
        return "S-D" + (match["ext"] or "").lower()
    if last and not has_query:
        extension = _EXT.search(segment)
        return "S" + (extension[0].lower() if extension else "")
    if _DIGITS.search(segment):
        return _DIGITS.sub("D", segment.lower())
    return segment.lower()


def url_shape(url: str) -> str:
    """The shape of a URL (see the module docstring)."""
    parts = urlsplit(url)
    segments = [segment for segment in parts.path.split("/") if segment]
    shaped = [
        _segment_shape(segment, index == len(segments) - 1, bool(parts.query))
        for index, segment in enumerate(segments)
    ]
    shape = "/" + "/".join(shaped) + ("/" if parts.path.endswith("/") and segments else "")
    if parts.query:
        names = sorted({
            f"{name}={'D' if value.isdigit() else 'S'}"
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        })
        shape += "?" + "&".join(names)
    return shape


def looks_like_article_url(url: str) -> bool:
    """An article-like URL before any page of its shape is seen: an id, a long slug, a date."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    if re.search(r"(?:^|[^\d])\d{5,}(?:\D|$)", last) or _ARTICLE_ID_PARAM.search(parts.query):
        return True
    if re.search(r"/(?:19|20)\d{2}/\d{1,2}/\d{1,2}/[^/]+", path):
        return True
    return last.count("-") >= 4


@dataclass(frozen=True)
class Verdict:
    """What a fetched page is, and why."""

    kind: str
    reason: str
    body_chars: int = 0
    headline_links: int = 0


def _text(node: LexborNode) -> str:
    return " ".join((node.text(deep=True, separator=" ") or "").split())


def ld_types(tree: LexborHTMLParser) -> set[str]:
    """The ``@type`` values of the page's JSON-LD blocks, lower case (``@graph`` included)."""
    types: set[str] = set()
    for script in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(script.text() or "null")
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                value = item.get("@type")
                for name in value if isinstance(value, list) else [value]:
                    if isinstance(name, str):
                        types.add(name.lower())
                stack.extend(item.get("@graph") or [])
    return types


def meta(tree: LexborHTMLParser, name: str) -> str | None:
    """The content of the first ``<meta property|name=name>``."""
    for node in tree.css(f'meta[property="{name}"], meta[name="{name}"]'):
        value = (node.attributes.get("content") or "").strip()
        if value:
            return value
    return None


def paragraph_container(tree: LexborHTMLParser) -> tuple[LexborNode | None, int]:
    """The element whose direct ``<p>`` children hold the most non-link text, and that text's size.

    Paragraphs that are mostly a link (a headline in a list) do not count.
    """
    scores: dict[int, int] = {}
    nodes: dict[int, LexborNode] = {}
    for paragraph in tree.css("p"):
        parent = paragraph.parent
        if parent is None:
            continue
        text = _text(paragraph)
        if not text:
            continue
        link_chars = sum(len(_text(link)) for link in paragraph.css("a"))
        if link_chars * 2 > len(text):
            continue
        scores[parent.mem_id] = scores.get(parent.mem_id, 0) + len(text)
        nodes[parent.mem_id] = parent
    if not scores:
        return None, 0
    best = max(scores, key=scores.__getitem__)
    return nodes[best], scores[best]


_WORD = re.compile(r"\w+")


def headline_links(scope: LexborNode | LexborHTMLParser) -> int:
    """Links in ``scope`` whose text reads like a headline (five words or more; a menu's
    "Văn hóa - Thể thao" is four)."""
    return sum(1 for link in scope.css("a[href]")
               if len(_WORD.findall(_text(link))) >= HEADLINE_MIN_WORDS)


def classify_page(tree: LexborHTMLParser) -> Verdict:
    """Whether the page is an ``article``, a ``listing`` or ``other`` (see the module docstring)."""
    container, body_chars = paragraph_container(tree)
    # Headlines in the container's own paragraphs make it a list; a related box beside them
    # does not.
    inside = sum(headline_links(p) for p in container.css("p") if p.parent is not None
                 and p.parent.mem_id == container.mem_id) if container is not None else 0
    own_text = body_chars if inside < MAX_HEADLINES_IN_BODY else 0
    types = ld_types(tree)
    og_type = (meta(tree, "og:type") or "").lower()
    if types & ARTICLE_TYPES and own_text:
        return Verdict("article", "json-ld", body_chars, inside)
    if og_type == "article" and own_text:
        return Verdict("article", "opengraph", body_chars, inside)
    dated = bool(meta(tree, "article:published_time")) or bool(
        _DATE_TIME.search(_text(tree.body) if tree.body is not None else ""))
    if own_text >= MIN_ARTICLE_CHARS and dated and not (types & LISTING_TYPES):
        return Verdict("article", "dated text", body_chars, inside)
    links = headline_links(tree)
    if types & LISTING_TYPES or links >= MIN_LISTING_LINKS:
        return Verdict("listing", "collection type" if types & LISTING_TYPES else "headline links",
                       body_chars, links)
    return Verdict("other", "no article text, few headline links", body_chars, links)


@dataclass
class ShapeModel:
    """Votes per URL shape: what the pages of each shape turned out to be."""

    votes: dict[str, Counter] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def vote(self, url: str, kind: str, weight: int = 1) -> None:
        """Count one page (or one sitemap entry, ``weight``) of ``url``'s shape as ``kind``."""
        shape = url_shape(url)
        self.votes.setdefault(shape, Counter())[kind] += weight
        examples = self.examples.setdefault(shape, [])
        if len(examples) < 3 and url not in examples:
            examples.append(url)

    def kind_of(self, url: str) -> str | None:
        """The kind of ``url``'s shape once its votes decide it, else None."""
        counts = self.votes.get(url_shape(url))
        if not counts:
            return None
        total = sum(counts.values())
        kind, top = counts.most_common(1)[0]
        if total >= DECIDED_AFTER and top >= DECIDED_SHARE * total:
            return kind
        return None

    def shapes_of(self, kind: str) -> list[str]:
        """Decided shapes of one kind, most voted first."""
        decided = []
        for shape, counts in self.votes.items():
            total = sum(counts.values())
            if total >= DECIDED_AFTER and counts[kind] >= DECIDED_SHARE * total:
                decided.append((counts[kind], shape))
        return [shape for _, shape in sorted(decided, reverse=True)]

    def to_json(self) -> dict:
        """The model as JSON-ready data."""
        return {shape: {"votes": dict(counts), "examples": self.examples.get(shape, [])}
                for shape, counts in sorted(self.votes.items())}

    @classmethod
    def from_json(cls, data: dict) -> ShapeModel:
        """A model saved by `to_json`."""
        model = cls()
        for shape, entry in (data or {}).items():
            model.votes[shape] = Counter({k: int(v) for k, v in entry.get("votes", {}).items()})
            model.examples[shape] = list(entry.get("examples", []))
        return model


def shape_regex(shape: str) -> str:
    """A regular expression matching the path (and query) of URLs of ``shape``."""
    path, _, query = shape.partition("?")
    pieces = []
    for segment in path.strip("/").split("/") if path.strip("/") else []:
        if segment.startswith("S-D"):
            pieces.append(r"[^/]*?\d{4,}" + re.escape(segment[3:]))
        elif re.fullmatch(r"D\d*", segment):
            pieces.append(rf"\d{{{segment[1:]}}}" if segment[1:] else r"\d+")
        elif segment.startswith("S") and (segment == "S" or segment[1] == "."):
            pieces.append(r"[^/]+" + re.escape(segment[1:]))
        else:
            pieces.append(re.escape(segment).replace("D", r"\d+"))
    regex = "^/" + "/".join(pieces) + ("/" if path.endswith("/") and pieces else "")
    if query:
        names = [part.split("=")[0] for part in query.split("&")]
        regex += r"\?" + "".join(f"(?=(?:.*&)?{re.escape(name)}=)" for name in names)
        return regex
    return regex + "$"
