"""Publication and modification dates of a page no site profile covers (the generic path).

Every source the field knows is read, the page's own signals first:

1. ``meta``: ``<meta>`` dates (`PUBLISHED_META`, case-insensitive: ``article:published_time``,
   ``DC.date``, ``prism.publicationDate``, ``sw-pubdate``, ``uploadDate``…) and ``json-ld``:
   ``datePublished`` of the page's article object (blocks that are not strictly valid JSON
   included, see `document.read_page`), compact ISO (``20201123T11:02:35Z``) included;
2. ``visible``: the date printed with the article: date elements (``itemprop``, ``<time>``,
   classes naming a date or time) in the article first, else a short date line next to the
   headline, with or without a time of day, numeric or with a month name in many languages
   (``dates.MONTH_NAMES``); slash dates month first on English pages (``11/8/2023``); clocks
   and member dates (``Aktuelle Zeit: …``) skipped;
3. ``url`` / ``image-url``: a date in the page's address, its ``og:url`` or canonical link
   (``/2020/04/28/``, ``/20200428/``), else in its ``og:image`` path;
4. ``htmldate``: `htmldate.find_date` (original date; its extensive search when its markup
   search finds nothing) when the page's own signals give nothing; an answer of January 1
   (htmldate's reading of a year alone, a copyright line) is refused.

The metadata date wins, except that a page's visible local date beats a UTC timestamp of the
same moment (``2019-11-19T02:24Z`` in ``<meta>``, ``Nov 18, 2019 at 9:24 pm`` on the page gives
``2019-11-18T21:24:00-05:00``: the offset is the difference), and a visible time of day
completes a metadata date without one. Years before ``dates.MIN_YEAR`` (other calendars) and
after next year are refused.

The offset is never invented (docs/researcher.md): it is the page's own (``zone_source``
``page``); else, on a page with clear Vietnamese signals (a ``.vn`` host, ``lang="vi"``,
``og:locale`` ``vi_VN``), Vietnam's (``vietnam``); otherwise the local time is kept without an
offset (``none``). A date without a time of day has no offset (``zone_source`` None). No
settings; site profiles read their dates in `article` with their own zone.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from itertools import islice
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.parsing.dates import (
    DEFAULT_TIMEZONE,
    ParsedDate,
    is_date_line,
    names_no_publication,
    parse_vietnamese_datetime,
)
from crawler.parsing.document import PageMeta, block_texts, element_text

logger = logging.getLogger(__name__)

# <meta> names of the publication date, case-folded, most specific first.
PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "og:published_time",
    "datepublished", "article.published", "article_date_original", "published_time",
    "publishdate", "publish-date", "publish_date", "publication_date", "pubdate",
    "parsely-pub-date", "sailthru.date", "sw-pubdate", "prism.publicationdate",
    "citation_publication_date", "citation_date", "dc.date.issued", "dcterms.issued",
    "dc.date.created", "dcterms.created", "dc.date", "dcterms.date", "date", "uploaddate",
    "originalpublicationdate", "rnews:datepublished",
)
MODIFIED_META = (
    "article:modified_time", "og:article:modified_time", "datemodified", "og:updated_time",
    "article.updated", "article_date_updated", "dc.date.modified", "dcterms.modified",
    "last-modified", "lastmod",
)
# JSON-LD types whose dates are the article's (a WebSite's or an Organization's are not).
ARTICLE_TYPES = frozenset({
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "liveblogposting",
    "techarticle", "scholarlyarticle", "socialmediaposting", "report", "videoobject",
    "webpage", "itempage", "review", "creativework", "discussionforumposting",
})
NOT_ARTICLE_TYPES = frozenset({"website", "organization", "newsmediaorganization", "person",
                               "breadcrumblist", "imageobject", "searchaction"})

# Date elements, read in the article first: attributes before text.
_DATE_ELEMENTS = (
    "[itemprop=datePublished]", "time[pubdate]", "time[datetime]", "abbr.published",
)
_DATE_CLASSED = (
    "[class*=date], [class*=time], [class*=publish], [class*=posted], [class*=byline], "
    "[class*=meta], [id*=date], [class*=ngay], [class*=Date], [class*=Time]"
)
# How many class-named elements to read before giving up, and the longest text worth parsing.
MAX_DATE_ELEMENTS = 12
MAX_DATE_TEXT_CHARS = 160
# Blocks after (and before) the headline searched for a date line.
BLOCKS_AFTER_TITLE = 10
BLOCKS_BEFORE_TITLE = 3
# A line this long with a date in it is a sentence, unless it starts with a byline.
_BYLINE_LINE_MAX_WORDS = 25
_FURNITURE_TAGS = frozenset({"nav", "header", "footer", "aside"})
# Class tokens of the same furniture, and of lists of other articles and of comments (an
# "article-header" holds the article's date: only the page's own header counts).
_FURNITURE_CLASSES = frozenset({"header", "footer", "sidebar", "menu", "nav", "navbar"})
_FURNITURE_CLASS_PREFIXES = (
    "site-header", "page-header", "global-header", "masthead", "footer", "site-footer",
    "sidebar", "widget", "related", "recent", "popular", "comment", "teaser", "breadcrumb",
)
_ATTRIBUTES = ("datetime", "content", "title")
# A block that is only a time of day: "5:53 PM", "19:29", "10:01 pm PST".
_TIME_ONLY_RE = re.compile(r"\d{1,2}[:h.]\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?\s*[A-Z]{0,4}",
                           re.IGNORECASE)

# Words that label a line as the publication date, in the languages of the dev set and more.
_PUBLISHED_LABEL_RE = re.compile(
    r"(?<![^\W\d_])(?:published|posted|publié|publiée|publicado|publicada|pubblicato|"
    r"veröffentlicht|publiziert|erschienen|erstellt|datum|date|fecha|data|gepubliceerd|"
    r"opublikowano|опубликовано|дата публикации|yayınlanma|diterbitkan|"
    r"ngày đăng|đăng lúc|đăng ngày|xuất bản)(?![^\W\d_])|기사입력|입력|発行|公開|发布",
    re.IGNORECASE,
)
_DIGIT_RE = re.compile(r"[0-9]")
# Dates in addresses: /2020/04/28/, /2020-04-28-, and compact /20200428/.
_URL_DATE_RE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?=[/\-_.]|$)")
_COMPACT_URL_DATE_RE = re.compile(
    r"[/_-]((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=[/_.-]|$)"
)
# English variants that write the day first.
_DAY_FIRST_ENGLISH = ("en-gb", "en-au", "en-nz", "en-ie", "en-in", "en-za", "en-sg", "en-ph",
                      "en-pk", "en-ng", "en-ke")
# A local time and a UTC timestamp of the same moment differ by a whole zone offset.
_MAX_OFFSET = timedelta(hours=14)
_WEST_MOST = timedelta(hours=12)
_OFFSET_STEP = timedelta(minutes=15)
# A metadata timestamp may be a minute or two off the printed time (saved, then published).
_OFFSET_SLACK = timedelta(minutes=2)
VIETNAM_ZONE = DEFAULT_TIMEZONE


@dataclass(frozen=True)
class FoundDate:
    """One date field of a record: ISO value, its source, contradiction, and the offset's source."""

    value: str | None = None
    source: str | None = None
    disagree: bool = False
    zone_source: str | None = None


@dataclass(frozen=True)
class _Candidate:
    source: str
    date: ParsedDate


@dataclass(frozen=True)
class PageSignals:
    """What the generic path knows about a page's origin, for reading its dates."""

    url: str
    lang: str | None
    vietnamese: bool
    month_first: bool
    site_zone: str | None = None


def page_signals(
    url: str, lang: str | None, metas: PageMeta, site_zone: str | None = None
) -> PageSignals:
    """Read a page's language and country signals once (``site_zone``: a profile's zone)."""
    lang = (lang or "").strip().casefold() or None
    locale = (metas.get("og:locale") or "").casefold().replace("_", "-")
    host = (urlsplit(url).hostname or "").casefold()
    vietnamese = host.endswith(".vn") or bool(lang and lang.startswith("vi")) or (
        locale.startswith("vi")
    )
    language = lang or locale or ""
    month_first = language.startswith("en") and not language.startswith(_DAY_FIRST_ENGLISH)
    return PageSignals(url, lang, vietnamese, month_first, site_zone)


def find_dates(
    page: LexborHTMLParser, metas: PageMeta, ld_objects: list[dict], signals: PageSignals,
    canonical: str | None = None,
) -> tuple[FoundDate, FoundDate]:
    """The (published, modified) dates of a page on the generic path.

    ``signals.site_zone`` (a site profile's zone) is applied to a time without an offset.
    """
    return _published(page, metas, ld_objects, signals, canonical), find_modified(
        metas, ld_objects, signals)


def find_modified(metas: PageMeta, ld_objects: list[dict], signals: PageSignals) -> FoundDate:
    """The modification date of a page on the generic path (`find_dates`'s second date).

    Alone for a profile that names where the publication date is but not the modification
    date: the publication search (the page's visible dates) is most of `find_dates`'s cost.
    """
    if parsed := _meta_date(metas, MODIFIED_META, signals):
        chosen = _Candidate("meta", parsed)
    elif parsed := _json_ld_date(ld_objects, ("dateModified",), signals):
        chosen = _Candidate("json-ld", parsed)
    else:
        return FoundDate()
    return _found(chosen, [chosen], signals)


def _published(
    page: LexborHTMLParser, metas: PageMeta, ld_objects: list[dict], signals: PageSignals,
    canonical: str | None,
) -> FoundDate:
    """The publication date from every source, in the order they are trusted.

    One function on purpose (61 lines): the order of the sources is the rule, and it reads
    top to bottom here as it is applied.
    """
    # The metadata's dates: the most specific (one with a time of day) leads, the most trusted
    # source among equals.
    candidates: list[_Candidate] = []
    for source, parsed in (
        ("meta", _meta_date(metas, PUBLISHED_META[:21], signals)),
        ("json-ld", _json_ld_date(ld_objects, ("datePublished", "dateCreated", "uploadDate"),
                                  signals)),
        ("meta", _meta_date(metas, PUBLISHED_META[21:], signals)),
    ):
        if parsed is not None:
            candidates.append(_Candidate(source, parsed))
    primary = max(
        candidates, key=lambda candidate: (candidate.date.has_time, candidate.date.stated_offset),
        default=None,
    )

    visible = None
    if primary is None or not primary.date.has_time or primary.date.value.utcoffset() in (
        None, timedelta(0)
    ):
        if parsed := _visible_date(page, signals):
            visible = _Candidate("visible", parsed)
            candidates.append(visible)
    address = _address_date(signals.url, metas, canonical)
    if address is not None:
        candidates.append(address)

    if primary is not None:
        locals_ = [visible] if visible is not None else []
        if primary.date.has_time and (_is_utc(primary.date) or primary.date.value.tzinfo is None):
            locals_ += _local_metas(metas, signals, primary.date.source_text)
            for candidate in candidates:
                if candidate.date.value.tzinfo is not None and not _is_utc(candidate.date):
                    locals_.append(candidate)
        if address is not None and address.source == "url":
            locals_.append(address)
        chosen = _local_over_utc(primary, locals_) or primary
        if visible is not None and chosen is primary and not primary.date.has_time and (
            visible.date.has_time and visible.date.value.date() == primary.date.value.date()
        ):
            chosen = visible
    elif visible is not None:
        chosen = visible
        if address is not None and address.source == "url" and (
            address.date.value.date() != visible.date.value.date()
        ):
            # A date in the page's own path is the CMS's; a visible one that contradicts it is
            # more likely another article's, in a list next to this one.
            chosen = address
    elif address is not None:
        chosen = address
    elif (parsed := _htmldate(page, signals)) and not _is_a_clock(page, parsed, signals):
        chosen = _Candidate("htmldate", parsed)
        candidates.append(chosen)
    else:
        return FoundDate()
    return _found(chosen, candidates, signals)


def _found(chosen: _Candidate, candidates: list[_Candidate], signals: PageSignals) -> FoundDate:
    """The record's view of the chosen candidate: zone applied, contradictions reported."""
    parsed = chosen.date
    value = parsed.value
    zone_source = None
    if parsed.has_time:
        if value.tzinfo is not None:
            zone_source = "page"
        elif signals.site_zone:
            value = value.replace(tzinfo=ZoneInfo(signals.site_zone))
            zone_source = "site"
        elif signals.vietnamese:
            value = value.replace(tzinfo=ZoneInfo(VIETNAM_ZONE))
            zone_source = "vietnam"
        else:
            zone_source = "none"
    chosen_day = value.date()
    disagree = any(
        abs((candidate.date.value.date() - chosen_day).days) > 1 for candidate in candidates
    )
    iso = value.isoformat(timespec="seconds") if parsed.has_time else chosen_day.isoformat()
    return FoundDate(iso, chosen.source, disagree, zone_source)


def _plausible(parsed: ParsedDate | None) -> ParsedDate | None:
    """The date, unless it is after next year (a typo, or another calendar's year)."""
    if parsed is None or parsed.value.year > date.today().year + 1:
        return None
    return parsed


def _parse(text: str | None, signals: PageSignals, *, fallback: bool) -> ParsedDate | None:
    if not text or len(text) > MAX_DATE_TEXT_CHARS * 4:
        return None
    return _plausible(parse_vietnamese_datetime(
        text, None, fallback=fallback, month_first=signals.month_first
    ))


def _meta_date(metas: PageMeta, names: tuple[str, ...], signals: PageSignals) -> ParsedDate | None:
    found = metas.get_folded(*names)
    return _parse(found[1], signals, fallback=True) if found else None


def _types(obj: dict) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(item).casefold() for item in kinds if item}


def _json_ld_date(
    ld_objects: list[dict], keys: tuple[str, ...], signals: PageSignals
) -> ParsedDate | None:
    """The first date of the article's JSON-LD object, else of any object that is not a site's."""
    for wanted in (True, False):
        for obj in ld_objects:
            kinds = _types(obj)
            if wanted != bool(kinds & ARTICLE_TYPES) or (kinds & NOT_ARTICLE_TYPES):
                continue
            for key in keys:
                value = obj.get(key)
                if isinstance(value, str) and (parsed := _parse(value, signals, fallback=True)):
                    return parsed
    return None


def _is_utc(parsed: ParsedDate) -> bool:
    offset = parsed.value.utcoffset()
    return parsed.stated_offset and offset is not None and not offset


def _local_over_utc(primary: _Candidate, others: list[_Candidate]) -> _Candidate | None:
    """A local date of the page for the same moment as a UTC (or zone-less) metadata timestamp.

    Pages print their own local date, and many write UTC (``…Z``), or UTC without saying so,
    in their metadata: ``2019-11-19T02:24Z`` and ``Nov 18, 2019 at 9:24 pm`` are one moment.
    A candidate whose date differs by a day and whose time differs by a whole zone offset is
    that local date; its offset is the difference when the metadata said UTC. A candidate
    without a time of day (a visible date, the URL's) only overrides a stated UTC timestamp.
    """
    meta = primary.date
    if not meta.has_time:
        return None
    stated_utc = _is_utc(meta)
    if meta.value.tzinfo is not None and not stated_utc:
        return None
    utc = meta.value.replace(tzinfo=None, second=0)
    # Timed candidates first: one that agrees with the timestamp's date confirms it.
    ordered = [c for c in others if c.date.has_time] + [c for c in others if not c.date.has_time]
    for candidate in ordered:
        shown = candidate.date
        days = abs((shown.value.date() - utc.date()).days)
        if shown is meta:
            continue
        if days == 0 and shown.has_time and not _is_utc(shown):
            return None
        if days != 1:
            continue
        if not shown.has_time:
            # A local date of that moment lies between UTC-12 and UTC+14.
            if stated_utc and (utc - _WEST_MOST).date() <= shown.value.date() <= (
                utc + _MAX_OFFSET
            ).date():
                return candidate
            continue
        if shown.value.tzinfo is not None:
            if not _is_utc(shown) and abs(shown.value - meta.value) <= timedelta(days=1):
                return candidate
            continue
        offset = shown.value.replace(second=0) - utc
        rounded = _OFFSET_STEP * round(offset / _OFFSET_STEP)
        if abs(rounded) > _MAX_OFFSET or abs(offset - rounded) > _OFFSET_SLACK:
            # Another moment of the same local day ("Updated 11:21 pm"): its date still is
            # the local one, its time is not the publication's.
            if stated_utc and abs(offset) <= _MAX_OFFSET:
                day = shown.value.replace(hour=0, minute=0, second=0)
                return _Candidate(candidate.source, ParsedDate(day, False, shown.source_text))
            continue
        if not stated_utc:
            return candidate
        local = ParsedDate(shown.value.replace(tzinfo=timezone(rounded)), True,
                           shown.source_text, stated_offset=True)
        return _Candidate(candidate.source, local)
    return None


def _local_metas(metas: PageMeta, signals: PageSignals, primary_text: str) -> list[_Candidate]:
    """Metadata dates with a time of day and no offset (``article_date_original``…)."""
    found = []
    seen = {primary_text}
    for name in PUBLISHED_META:
        entry = metas.get_folded(name)
        if entry and entry[1] not in seen and (parsed := _parse(entry[1], signals,
                                                                  fallback=False)) and (
            parsed.has_time and parsed.value.tzinfo is None
        ):
            found.append(_Candidate("meta", parsed))
    return found


def outside_furniture(element: LexborNode) -> bool:
    """Whether an element is outside navigation, headers, footers and sidebars (tag or class).

    A header inside an ``<article>`` is the article's own, where its date is printed.
    """
    node = element
    in_header = False
    while node is not None:
        tag = node.tag
        if tag == "article":
            in_header = False
            node = node.parent
            continue
        if tag in _FURNITURE_TAGS:
            if tag != "header":
                return False
            in_header = True
        classes = node.attributes.get("class")
        if classes:
            for token in classes.casefold().split():
                if token == "header":
                    in_header = True
                elif token in _FURNITURE_CLASSES or token.startswith(_FURNITURE_CLASS_PREFIXES):
                    return False
        node = node.parent
    return not in_header


def _headline(page: LexborHTMLParser) -> LexborNode | None:
    """The article's ``<h1>``: the one inside an ``<article>``, else the first."""
    headlines = page.css("h1")
    for headline in headlines:
        parent = headline.parent
        while parent is not None:
            if parent.tag == "article":
                return headline
            parent = parent.parent
    return headlines[0] if headlines else None


def _article_scope(page: LexborHTMLParser) -> LexborNode | None:
    """The ``<article>`` holding the headline, else the first one."""
    title = _headline(page)
    if title is not None:
        parent = title.parent
        while parent is not None:
            if parent.tag == "article":
                return parent
            parent = parent.parent
    return page.css_first("article")


def _element_date(element: LexborNode, signals: PageSignals) -> ParsedDate | None:
    """The date an element shows: its text's local date over a UTC attribute of that moment."""
    if element.tag == "meta":  # metadata, read as such; not what the page shows
        return None
    attrs = element.attributes
    text = element_text(element)
    if len(text) > MAX_DATE_TEXT_CHARS or names_no_publication(text):
        text = ""
    for name in _ATTRIBUTES:
        value = attrs.get(name)
        if value and (parsed := _parse(value, signals, fallback=False)):
            shown = _parse(text, signals, fallback=False) if text else None
            if shown is not None and (
                local := _local_over_utc(_Candidate("visible", parsed),
                                         [_Candidate("visible", shown)])
            ):
                return local.date
            return parsed
    return _parse(text, signals, fallback=False) if text else None


def _visible_date(page: LexborHTMLParser, signals: PageSignals) -> ParsedDate | None:
    """The date printed with the article (date elements, else a line next to the headline)."""
    if parsed := _date_near_title(page, signals):
        return parsed
    article = _article_scope(page)
    if article is not None and (parsed := _elements_date(article, signals)):
        return parsed
    return _elements_date(page, signals) or _labelled_date_line(page, signals)


def _labelled_date_line(page: LexborHTMLParser, signals: PageSignals) -> ParsedDate | None:
    """A short line anywhere in the page that says it gives the publication date.

    ``Artikel veröffentlicht am 16.12.2012``, ``Datum 12.01.2017``, ``기사입력 : 2018-08-25``.
    """
    body = page.body
    if body is None:
        return None
    lines = body.text(separator="\n").split("\n")
    for index, line in enumerate(lines):
        if len(line) > MAX_DATE_TEXT_CHARS or _PUBLISHED_LABEL_RE.search(line) is None:
            continue
        # The label and the date are often separate elements: "Datum" then "12.01.2017".
        for text in (line, " ".join(lines[index:index + 3])):
            if (
                len(text) <= MAX_DATE_TEXT_CHARS and _DIGIT_RE.search(text) is not None
                and not names_no_publication(text)
                and (parsed := _parse(text, signals, fallback=False))
            ):
                return parsed
    return None


def _elements_date(scope: LexborHTMLParser | LexborNode, signals: PageSignals) -> ParsedDate | None:
    """The first date of the date elements in ``scope`` (outside navigation and footers)."""
    for selector in _DATE_ELEMENTS:
        for element in islice(scope.css(selector), 3):
            if outside_furniture(element) and (parsed := _element_date(element, signals)):
                return parsed
    read = 0
    for element in scope.css(_DATE_CLASSED):
        if element.tag in ("html", "body", "article", "main") or not outside_furniture(element):
            continue
        read += 1
        if read > MAX_DATE_ELEMENTS:
            break
        if parsed := _element_date(element, signals):
            return parsed
    return None


def _date_near_title(page: LexborHTMLParser, signals: PageSignals) -> ParsedDate | None:
    """A short date line among the blocks around the headline, in elements of any class.

    A date line followed by a line that is only a time of day ("Nov. 19, 2019" then
    "5:53 PM") is read as one.
    """
    title = _headline(page)
    if title is None:
        return None
    title_text = " ".join(element_text(title).split())
    if not title_text:
        return None
    container = title.parent
    for _ in range(3):
        if container is None:
            return None
        blocks = [" ".join(block.split()) for block in block_texts(container)]
        blocks = [block for block in blocks if block]
        if title_text in blocks and len(blocks) > blocks.index(title_text) + 1:
            break
        container = container.parent
    else:
        return None
    if title_text not in blocks:
        return None
    position = blocks.index(title_text)
    nearby = blocks[position + 1:position + 1 + BLOCKS_AFTER_TITLE]
    nearby += blocks[max(0, position - BLOCKS_BEFORE_TITLE):position]
    for block in nearby:
        if len(block) > MAX_DATE_TEXT_CHARS * 2 or names_no_publication(block):
            continue
        if is_date_line(block) or len(block.split()) <= _BYLINE_LINE_MAX_WORDS:
            if parsed := _parse(block, signals, fallback=False):
                following = nearby[nearby.index(block) + 1:nearby.index(block) + 2]
                if not parsed.has_time and following and _TIME_ONLY_RE.fullmatch(following[0]):
                    parsed = _parse(f"{block} {following[0]}", signals, fallback=False) or parsed
                return parsed
    return None


def _address_date(url: str, metas: PageMeta, canonical: str | None) -> _Candidate | None:
    """A date in the page's own address, og:url or canonical link, else its og:image path."""
    for source, addresses in (
        ("url", (url, metas.get("og:url"), canonical)),
        ("image-url", (metas.get("og:image"),)),
    ):
        for address in addresses:
            if address and (parsed := _date_in_address(address)):
                return _Candidate(source, parsed)
    return None


def _date_in_address(address: str) -> ParsedDate | None:
    path = urlsplit(address).path
    match = _URL_DATE_RE.search(path) or _COMPACT_URL_DATE_RE.search(path)
    if match is None:
        return None
    try:
        value = datetime(*map(int, match.groups()))
    except ValueError:
        return None
    return _plausible(ParsedDate(value, False, address))


def _is_a_clock(page: LexborHTMLParser, found: ParsedDate, signals: PageSignals) -> bool:
    """Whether the page prints ``found`` only as a clock or a member's date ("Aktuelle Zeit")."""
    body = page.body
    if body is None:
        return False
    for line in body.text(separator="\n").split("\n"):
        if names_no_publication(line) and (parsed := _parse(line, signals, fallback=False)) and (
            parsed.value.date() == found.value.date()
        ):
            return True
    return False


def _htmldate(page: LexborHTMLParser, signals: PageSignals) -> ParsedDate | None:
    """htmldate's answer (original date), as a date without a time of day.

    htmldate reads the page without its scripts and styles (`document.read_page` took them
    out; the JSON-LD among them was read first): it parses that in a third of the time.
    """
    html = page.html or ""
    try:
        from htmldate import find_date

        # The markup search first; the extensive search (free text, several times slower) only
        # when the markup gives nothing.
        found = find_date(
            html, url=signals.url, original_date=True, extensive_search=False
        ) or find_date(html, url=signals.url, original_date=True, extensive_search=True)
    except Exception as error:  # a library failure is no date, not a crash
        logger.warning("htmldate failed on %s: %s", signals.url, error)
        return None
    if not found:
        return None
    try:
        value = datetime.strptime(found, "%Y-%m-%d")
    except ValueError:
        return None
    if (value.month, value.day) == (1, 1):
        # htmldate's answer from a year alone (a copyright line), not a date the page gives.
        return None
    return _plausible(ParsedDate(value, False, found))
