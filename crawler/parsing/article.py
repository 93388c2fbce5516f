"""Article extraction: page bytes in, the Article record's parsed fields out.

Stages, each a small function: parse the tree and read page metadata (JSON-LD, OpenGraph) →
title, lead, dates (every source is read; the most specific wins, disagreements are reported) →
the body: with a site profile its selectors lead (cut the profile's noise, take images and their
captions out, read the blocks); without one, or when the profile's body container is missing or
empty, the generic path (`generic.main_text_blocks`, trafilatura) reads the text → our cleaning
rules on either (noise lines, repeated captions and lead, related headlines, the byline) →
authors. Fields a page lacks are ``None`` (or empty lists), never guessed; ``*_source`` fields
say where a value came from, ``fallback`` which fields a profile missed.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html import unescape as unescape_html
from itertools import islice
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.parsing import generic, pagedates
from crawler.parsing.bylines import Byline, parse_byline, split_caption_credit
from crawler.parsing.dates import DEFAULT_TIMEZONE, ParsedDate, parse_vietnamese_datetime
from crawler.parsing.document import (
    PageMeta,
    attribute,
    block_texts,
    decode_html,
    drop,
    element_text,
    read_page,
)
from crawler.parsing.links import PageLinks
from crawler.parsing.profile import SiteProfile
from crawler.parsing.text import (
    clean_paragraphs,
    is_punctuation_only,
    normalize_space,
    pop_byline,
    text_key,
)

_TAG_SPLIT = re.compile(r"\s*[,;]\s*")
# A date in the URL path: /2020/02/12/, /2020-02-12-.
_URL_DATE_RE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?=[/\-_.]|$)")
# Sources closer than this agree: a page may print local midnight while its metadata says UTC.
DATES_DISAGREE_AFTER = timedelta(days=1)

# "Theo <name>" ("according to"): JSON-LD authors that carry the source line's wording.
_SOURCE_PREFIX_RE = re.compile(r"^theo\s+", re.IGNORECASE)
# The sapo is one of the first blocks; a description cut short must still be long enough that
# matching it as a prefix cannot pick an unrelated paragraph.
_LEAD_WITHIN_BLOCKS = 5
_TRUNCATED_LEAD_MIN_CHARS = 60
# Image alt texts that are not captions: file names ("Ảnh màn hình … 23.12.56.png"), one word.
_NOT_A_CAPTION_RE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|bmp)$|^\S+$", re.IGNORECASE)

logger = logging.getLogger(__name__)


# A page (the whole document) or one element of it: selectors run on either.
Scope = LexborHTMLParser | LexborNode


def _matches(scope: Scope, selector) -> Iterator[LexborNode]:
    """What ``selector`` finds in ``scope``, in document order, searched for as it is read.

    Most fields take the first match: a search that stops there skips the rest of the page
    (Lexbor walks the whole tree for every full search).
    """
    first = getattr(selector, "first", None)
    if first is None:
        yield from selector(scope)
        return
    found = first(scope)
    if found is not None:
        yield found
        yield from selector(scope)[1:]


def _first(scope: Scope, selectors) -> LexborNode | None:
    for selector in selectors:
        for found in _matches(scope, selector):
            return found
    return None


def _first_text(scope: Scope, selectors) -> str | None:
    for selector in selectors:
        for element in _matches(scope, selector):
            text = normalize_space(element_text(element))
            if text and not is_punctuation_only(text):
                return text
    return None


def _image_src(image: LexborNode, links: PageLinks) -> str | None:
    attrs = image.attributes  # one dict: cheaper than a lookup per name
    for attr in ("data-src", "data-original", "src"):
        value = (attrs.get(attr) or "").strip()
        if value and not value.startswith("data:"):
            return links.absolute(value)
    return None


def _take_images(body: LexborNode, profile: SiteProfile | None, links: PageLinks) -> list[dict]:
    """Collect images with captions from the body container and remove them from it."""
    images: list[dict] = []
    seen: set[str] = set()
    block_selectors = profile.selectors["image_blocks"] if profile else generic.IMAGE_BLOCKS
    caption_selectors = profile.selectors["image_caption"] if profile else generic.IMAGE_CAPTIONS
    for selector in block_selectors:
        for block in selector(body):
            found = block.css("img")  # the block itself, or the images inside it
            src = _image_src(found[0], links) if found else None
            caption_text = _first_text(block, caption_selectors)
            caption, credit = split_caption_credit(caption_text) if caption_text else (None, None)
            if src and src not in seen:
                seen.add(src)
                images.append({"src": src, "caption": caption or None, "credit": credit})
            drop(block)
    for image in body.css("img"):
        if image.mem_id == body.mem_id:  # `==` on nodes compares their serialized HTML
            continue
        src = _image_src(image, links)
        if src and src not in seen:
            seen.add(src)
            alt = normalize_space(attribute(image, "alt") or "") or None
            if alt and _NOT_A_CAPTION_RE.search(alt):
                alt = None
            images.append({"src": src, "caption": alt, "credit": None})
        drop(image)
    return images


@dataclass(frozen=True)
class _DateCandidate:
    """A date one source of the page gives, and which source that is."""

    source: str
    date: ParsedDate


def _date_from_elements(
    page: LexborHTMLParser, selectors, timezone: str, *, limit: int | None, needs_time: bool
) -> ParsedDate | None:
    """The first date read from the elements ``selectors`` find (attributes before text)."""
    for selector in selectors:
        for element in islice(_matches(page, selector), limit):
            attrs = element.attributes
            for text in (attrs.get("datetime"), attrs.get("content"), element_text(element)):
                # Unknown layouts only get the fast shapes: dateparser on every "date"-classed
                # element of a page costs milliseconds each.
                parsed = (
                    parse_vietnamese_datetime(text, timezone, fallback=limit is None)
                    if text else None
                )
                if parsed and (parsed.has_time or not needs_time):
                    return parsed
    return None


def _date_from_url(url: str, timezone: str) -> ParsedDate | None:
    match = _URL_DATE_RE.search(url)
    if match is None:
        return None
    return parse_vietnamese_datetime("-".join(match.groups()), timezone, fallback=False)


def _date_candidates(
    page: LexborHTMLParser, metas: PageMeta, selectors, meta_names, ld_key, ld_objects, timezone, *,
    url: str | None = None,
) -> list[_DateCandidate]:
    """Every date the page gives for one field, in order of trust.

    A profile's selectors lead (the maintainer chose them), then ``<meta>``, JSON-LD, and, on
    the generic path when metadata gives no time of day, a visible date line; the URL last.
    """
    candidates: list[_DateCandidate] = []
    if selectors and (parsed := _date_from_elements(
            page, selectors, timezone, limit=None, needs_time=False)):
        candidates.append(_DateCandidate("selector", parsed))
    value = metas.get(*meta_names)
    if value and (parsed := parse_vietnamese_datetime(value, timezone)):
        candidates.append(_DateCandidate("meta", parsed))
    for obj in ld_objects:
        value = obj.get(ld_key)
        if isinstance(value, str) and (parsed := parse_vietnamese_datetime(value, timezone)):
            candidates.append(_DateCandidate("json-ld", parsed))
            break
    if url is not None:
        if not any(candidate.date.has_time for candidate in candidates) and (
            parsed := _date_from_elements(
                page, generic.VISIBLE_DATES, timezone, limit=generic.MAX_DATE_ELEMENTS,
                needs_time=True)
        ):
            candidates.append(_DateCandidate("visible", parsed))
        if parsed := _date_from_url(url, timezone):
            candidates.append(_DateCandidate("url", parsed))
    return candidates


def _choose_date(candidates: list[_DateCandidate]) -> pagedates.FoundDate:
    """Return (ISO value, source, sources disagree, offset's source) for one date field.

    The most specific date wins (one with a time of day over a bare date), the most trusted
    source among equals. Sources that differ by more than `DATES_DISAGREE_AFTER` are reported,
    not silently resolved: a researcher filtering by date should know the page contradicts itself.
    """
    if not candidates:
        return pagedates.FoundDate()
    best = max(candidates, key=lambda candidate: candidate.date.has_time)
    disagree = any(
        abs(candidate.date.value - best.date.value) > DATES_DISAGREE_AFTER
        for candidate in candidates
    )
    zone_source = ("page" if best.date.stated_offset else "site") if best.date.has_time else None
    return pagedates.FoundDate(best.date.iso(), best.source, disagree, zone_source)


def _title(
    page: LexborHTMLParser, metas: PageMeta, profile: SiteProfile | None
) -> tuple[str | None, str | None]:
    if profile and (title := _first_text(page, profile.selectors["title"])):
        return title, "selector"
    if title := metas.get("og:title", "twitter:title"):
        return normalize_space(title), "meta"
    if title := _first_text(page, generic.TITLES):
        return title, "generic"
    titles = page.css("title")
    if titles:
        title = normalize_space(element_text(titles[0]))
        for suffix in profile.title_suffixes if profile else ():
            title = title.removesuffix(suffix).strip()
        return title or None, "html-title"
    return None, None


def _tags(page: LexborHTMLParser, metas: PageMeta, profile: SiteProfile | None) -> list[str]:
    tags: list[str] = []
    for selector in profile.selectors["tags"] if profile else ():
        for element in selector(page):
            # baodautu.vn prints its tags as hashtags ("# AAT"); the "#" is not part of the tag.
            text = normalize_space(element_text(element).lstrip().lstrip("#"))
            if text and not is_punctuation_only(text) and text not in tags:
                tags.append(text)
        if tags:
            return tags
    keywords = metas.get("article:tag", "news_keywords")
    if keywords:
        for tag in _TAG_SPLIT.split(keywords):
            tag = normalize_space(tag)
            if tag and tag not in tags:
                tags.append(tag)
    return tags


def content_hash(record: dict) -> str:
    """A digest of the text a reader sees: the same article re-fetched hashes the same."""
    text = "\n".join(record.get(key) or "" for key in ("title", "lead", "body"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class _Page:
    """One page being read: its tree and metadata, the profile (None: the generic path), and the
    fields the profile's selectors missed (``fallback``), shared by the extraction stages."""

    url: str
    html: bytes | str
    content_type: str | None
    profile: SiteProfile | None
    tree: LexborHTMLParser
    ld_objects: list[dict]
    metas: PageMeta
    canonical: list[str]
    links: PageLinks
    # The zone the crawl knows for a site without a profile (None: none known).
    site_zone: str | None = None
    fallback: list[str] = field(default_factory=list)

    @property
    def selectors(self) -> dict | None:
        """The profile's compiled selectors by field, or None on the generic path."""
        return self.profile.selectors if self.profile else None

    @property
    def timezone(self) -> str:
        """Where a date without an offset is read: the profile's zone, else Vietnam's."""
        if self.profile:
            return self.profile.timezone
        return self.site_zone or DEFAULT_TIMEZONE


def extract_with_profile(
    html: bytes | str, url: str, profile: SiteProfile | None, content_type: str | None = None,
    *, timezone: str | None = None, outlinks: bool = False,
) -> dict:
    """Extract the Article fields of one page; ``profile`` None means the generic path.

    ``timezone`` (generic path only) is the zone the crawl knows the site's times are printed
    in, as a profile's is (the portal spider's ``-a timezone``); without it a time printed
    without an offset keeps none unless the page itself says it is Vietnamese.

    With a profile, a title or body its selectors miss is taken by the generic path instead
    and named in the record's ``fallback`` list (a sign that the site's layout changed).

    ``outlinks``: add ``outlinks``, the ``href`` of every link on the page as written (not an
    Article field: the crawl archives them in a WARC metadata record), read from the same tree.
    """
    parsed = read_page(html, content_type, hrefs=outlinks)
    page = _Page(url, html, content_type, profile, parsed.tree, parsed.json_ld, parsed.metas,
                 parsed.canonical, PageLinks(url), site_zone=timezone)
    title, title_source = _title(page.tree, page.metas, profile)
    if title and not profile:
        title = generic.without_site_name(
            title, _first_text(page.tree, generic.TITLES),
            page.metas.get("og:site_name", "application-name"),
        )
    if profile and title_source != "selector":
        page.fallback.append("title")
    lead, lead_source = _read_lead(page)
    dates = _read_dates(page)
    selectors = page.selectors
    section = _first_text(page.tree, selectors["section"]) if selectors else None
    section = section or page.metas.get("article:section")
    byline_text = (_first_text(page.tree, selectors["byline"])
                   if selectors and selectors["byline"] else None)
    byline = parse_byline(byline_text, allow_bare_name=True) if byline_text else None
    tags = _tags(page.tree, page.metas, profile)  # before the body reading cuts the tree
    body, body_source = _read_body_with_fallback(page, title, lead, lead_source)
    byline = _read_byline(page, byline or body.byline)
    images = body.images
    if body_source == "generic" and images:
        images = _real_images(images, title, byline)
    if page.fallback:
        logger.info("%s: profile %s found no %s, generic extraction used",
                    url, profile.site_id if profile else None, " or ".join(page.fallback))
    language = attribute(page.tree.root, "lang") or (profile.language if profile else None)
    record = {
        "url": url,
        "canonical_url": (page.links.absolute(page.canonical[0].strip()) if page.canonical
                          else url),
        "site": profile.site_id if profile else None,
        "title": title,
        "lead": body.lead,
        "body": "\n\n".join(body.paragraphs) if body.paragraphs else None,
        **dates,
        "authors": list(byline.authors) if byline else [],
        "credit": byline.credit if byline else None,
        "section": normalize_space(section) if section else None,
        "tags": tags,
        "images": images,
        "language": language.split("-")[0].lower() if language else None,
        "title_source": title_source,
        "lead_source": body.lead_source,
        "body_source": body_source if body.paragraphs else None,
        "fallback": page.fallback,
    }
    record["content_hash"] = content_hash(record)
    if outlinks:
        record["outlinks"] = parsed.hrefs
    return record


def _read_lead(page: _Page) -> tuple[str | None, str | None]:
    """The sapo and where it came from: the profile's selector; else the generic selectors, then
    the page's description (the body reading may still swap that for the visible sapo)."""
    if page.selectors:
        lead = _first_text(page.tree, page.selectors["lead"])
        return lead, "selector" if lead else None
    if lead := _first_text(page.tree, generic.LEADS):
        return lead, "generic"
    lead = page.metas.get("description", "og:description")
    lead = normalize_space(lead) if lead else None
    return lead, "meta" if lead else None


def _read_dates(page: _Page) -> dict:
    """``published`` and ``modified`` with their sources and zones' sources, and whether the
    sources disagree.

    A profile's date selectors lead; the generic date finder (`pagedates`) reads a page without
    a profile, and a field a profile names no element for (so what ``scrapy addsite`` pre-fills
    from the generic path is what the profile gives).
    """
    selectors = page.selectors
    generic_published = generic_modified = None
    if selectors is None or not selectors["published"] or not selectors["modified"]:
        signals = pagedates.page_signals(
            page.url, attribute(page.tree.root, "lang"), page.metas,
            page.profile.timezone if page.profile else page.site_zone)
        if selectors is None or not selectors["published"]:
            generic_published, generic_modified = pagedates.find_dates(
                page.tree, page.metas, page.ld_objects, signals,
                page.canonical[0].strip() if page.canonical else None)
        else:  # the profile finds the publication date: only the modification date is read
            generic_modified = pagedates.find_modified(page.metas, page.ld_objects, signals)
    published = generic_published if selectors is None or not selectors["published"] else (
        _profile_date(page, "published", ("article:published_time", "datePublished", "pubdate"),
                      "datePublished", url=page.url))
    modified = generic_modified if selectors is None or not selectors["modified"] else (
        _profile_date(page, "modified", ("article:modified_time", "dateModified",
                                         "og:updated_time"), "dateModified"))
    return {
        "published": published.value,
        "published_source": published.source,
        "published_zone_source": published.zone_source,
        "modified": modified.value,
        "modified_source": modified.source,
        "modified_zone_source": modified.zone_source,
        "dates_disagree": published.disagree or modified.disagree,
    }


def _profile_date(
    page: _Page, field: str, meta_names: tuple[str, ...], ld_key: str, url: str | None = None
) -> pagedates.FoundDate:
    """A date field read by the profile's selectors first, then the page's metadata."""
    assert page.selectors is not None
    return _choose_date(_date_candidates(
        page.tree, page.metas, page.selectors[field], meta_names, ld_key, page.ld_objects,
        page.timezone, url=url,
    ))


def _read_byline(page: _Page, byline: Byline | None) -> Byline | None:
    """The byline found in the page, else the JSON-LD author, else (generic path) an author
    element near the headline, else ``<meta name=author>`` (on the generic path only when it
    names a person, not the publisher)."""
    if byline is None:
        byline = _json_ld_byline(page.ld_objects)
    if byline is None and not page.profile and (author := generic.author_element_text(page.tree)):
        byline = parse_byline(author, allow_bare_name=True)
    if byline is None and (author := page.metas.get("author", "article:author")):
        if page.profile or not _names_the_publisher(author, page.metas, page.url):
            byline = parse_byline(author, allow_bare_name=True)
    return byline


@dataclass(frozen=True)
class _Body:
    """What one reading of the body gives: its paragraphs and images, and what they tell."""

    paragraphs: list[str]
    images: list[dict]
    byline: Byline | None
    lead: str | None
    lead_source: str | None


def _read_body_with_fallback(
    page: _Page, title: str | None, lead: str | None, lead_source: str | None
) -> tuple[_Body, str]:
    """The body and the reader that gave it (``selector`` or ``generic``).

    The profile's body container first; when it is missing, or holds no text any more (the
    layout moved the article elsewhere), the generic path reads the page and ``body`` is named
    in ``fallback``.
    """
    if page.selectors:
        body = _selector_body(page, title, lead, lead_source)
        if body.paragraphs:
            return body, "selector"
        page.fallback.append("body")
    return _generic_body(page, title, lead, lead_source), "generic"


def _selector_body(
    page: _Page, title: str | None, lead: str | None, lead_source: str | None
) -> _Body:
    """Read the body with the profile's selectors: the first reading to change the tree."""
    assert page.profile is not None
    container = _first(page.tree, page.profile.selectors["body"])
    if container is None:
        return _Body([], [], None, lead, lead_source)
    images = _strip_container(container, page.profile.selectors["remove"], page)
    return _clean_body(block_texts(container), images, title, lead, lead_source)


def _generic_body(
    page: _Page, title: str | None, lead: str | None, lead_source: str | None
) -> _Body:
    """Read the body with the generic path (trafilatura parses the decoded text again, with
    lxml); images and captions still come from the tree, its text only when trafilatura has
    none worth more."""
    page_body = page.tree.body
    blocks = generic.cut_trailer(generic.without_link_headlines(
        generic.main_text_blocks(
            generic.layout_tables_as_blocks(decode_html(page.html, page.content_type), page.tree),
            page.links.url, len(page_body.text()) if page_body is not None else None,
            (lambda: generic.prose_chars(block_texts(page_body))) if page_body is not None
            else None,
        ),
        generic.link_headlines(page.tree, page.links.url),
    ))
    container = generic.find_body(page.tree)
    images: list[dict] = []
    if container is not None:
        images = _strip_container(container, generic.REMOVE, page)
        if len(blocks) < 2:
            # One block from trafilatura is its whole-page dump for pages too small to score;
            # the paragraph container's own blocks are then the better reading.
            container_blocks = block_texts(container)
            if len(container_blocks) > len(blocks):
                blocks = container_blocks
    return _clean_body(blocks, images, title, lead, lead_source)


def _strip_container(container: LexborNode, removals, page: _Page) -> list[dict]:
    """Cut the noise ``removals`` select out of the body container; take its images out."""
    for selector in removals:
        for element in selector(container):
            drop(element)
    return _take_images(container, page.profile, page.links)


def _clean_body(
    blocks: list[str], images: list[dict], title: str | None, lead: str | None,
    lead_source: str | None,
) -> _Body:
    """Our cleaning rules on the body's blocks: noise lines, repeated captions, lead and title,
    and the byline at its end."""
    if not blocks:
        return _Body([], images, None, lead, lead_source)
    if lead and lead_source == "meta" and (visible_lead := _visible_lead(lead, blocks)):
        # The description is the page's visible sapo, or the start of it (dantri.com.vn cuts
        # its description short): the visible text is the article's lead.
        lead, lead_source = visible_lead, "body"
    captions = [image["caption"] for image in images if image["caption"]]
    paragraphs = clean_paragraphs(
        blocks, captions=captions, exclude=[t for t in (lead, title) if t]
    )
    paragraphs, byline = pop_byline(paragraphs)
    return _Body(paragraphs, images, byline, lead, lead_source)


def _real_images(images: list[dict], title: str | None, byline: Byline | None) -> list[dict]:
    """Drop what the generic path takes for article images but is not one.

    An image whose caption is an author's name is the author's portrait (dantri.com.vn), and a
    caption that repeats the title ("<title> - Ảnh 3.", tuoitre.vn) is generated alt text.
    """
    authors = {text_key(name) for name in byline.authors} if byline else set()
    title_key = text_key(title) if title else None
    kept = []
    for image in images:
        caption_key = text_key(image["caption"]) if image["caption"] else ""
        if caption_key and caption_key in authors:
            continue
        if caption_key and title_key and caption_key.startswith(title_key):
            image = {**image, "caption": None}
        kept.append(image)
    return kept


def _json_ld_byline(ld_objects: list[dict]) -> Byline | None:
    """The people JSON-LD names as the article's authors (organisations and blanks skipped)."""
    names: list[str] = []
    for obj in ld_objects:
        authors = obj.get("author")
        for author in authors if isinstance(authors, list) else [authors]:
            if not isinstance(author, dict) or author.get("@type", "Person") != "Person":
                continue
            # tuoitre.vn writes "NH&#7852;T XUÂN" inside JSON; cafef.vn "Theo Hồ Hương".
            name = normalize_space(unescape_html(str(author.get("name") or "")))
            name = _SOURCE_PREFIX_RE.sub("", name)
            if name and not is_punctuation_only(name) and name not in names:
                names.append(name)
        if names:
            break
    return Byline(authors=tuple(names), credit=None, text=", ".join(names)) if names else None


def _names_the_publisher(author: str, metas: PageMeta, url: str) -> bool:
    """Whether a ``<meta name=author>`` value is the publication rather than a person.

    Portals put their own name there ("TUOI TRE ONLINE", "NLD.COM.VN", "Dân Trí" on
    "Báo điện tử Dân Trí"): a domain, or a part of the site's name, is not an author.
    """
    folded = author.strip().casefold()
    site_name = (metas.get("og:site_name", "application-name") or "").casefold()
    host = (urlsplit(url).hostname or "").casefold()
    return (
        "." in folded or folded in site_name or folded.replace(" ", "") in host
        or author.isupper()
    )


def _visible_lead(description: str, blocks: list[str]) -> str | None:
    """The first block that is the page's description, whole or cut short; None if none is."""
    key = text_key(description)
    for block in blocks[:_LEAD_WITHIN_BLOCKS]:
        block_key = text_key(block)
        if block_key == key or (
            len(key) >= _TRUNCATED_LEAD_MIN_CHARS and block_key.startswith(key)
        ):
            return normalize_space(block)
    return None
