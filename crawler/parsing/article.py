"""Article extraction: page bytes in, the Article record's parsed fields out.

Stages, each a small function: parse the tree and read page metadata (JSON-LD, OpenGraph) →
cut the profile's noise (share bars, ads, related boxes) → take images and their captions out of
the body → read body blocks → clean them (noise lines, repeated captions, byline) → dates and
bylines. With a site profile the profile's selectors lead and the generic strategies fill what they
miss; without one the generic strategies do everything. Fields a page lacks are ``None`` (or empty
lists), never guessed; ``*_source`` fields say where a value came from.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urljoin

from lxml import etree

from crawler.parsing import generic
from crawler.parsing.bylines import parse_byline, split_caption_credit
from crawler.parsing.dates import DEFAULT_TIMEZONE, parse_vietnamese_datetime
from crawler.parsing.document import (
    block_texts,
    element_text,
    json_ld_objects,
    meta_content,
    parse_html,
    strip_non_content,
)
from crawler.parsing.profile import SiteProfile
from crawler.parsing.text import clean_paragraphs, is_punctuation_only, normalize_space, pop_byline

_TAG_SPLIT = re.compile(r"\s*[,;]\s*")


def _first(tree: etree._Element, xpaths) -> etree._Element | None:
    for xpath in xpaths:
        found = xpath(tree)
        if found:
            return found[0]
    return None


def _first_text(tree: etree._Element, xpaths) -> str | None:
    for xpath in xpaths:
        for element in xpath(tree):
            text = normalize_space(element_text(element))
            if text and not is_punctuation_only(text):
                return text
    return None


def _drop(element: etree._Element) -> None:
    """Remove an element but keep the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail and element.tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _image_src(image: etree._Element, url: str) -> str | None:
    for attr in ("data-src", "data-original", "src"):
        value = (image.get(attr) or "").strip()
        if value and not value.startswith("data:"):
            return urljoin(url, value)
    return None


def _take_images(body: etree._Element, profile: SiteProfile | None, url: str) -> list[dict]:
    """Collect images with captions from the body container and remove them from it."""
    images: list[dict] = []
    seen: set[str] = set()
    block_xpaths = profile.xpath["image_blocks"] if profile else generic.IMAGE_BLOCKS
    caption_xpaths = profile.xpath["image_caption"] if profile else generic.IMAGE_CAPTIONS
    for xpath in block_xpaths:
        for block in xpath(body):
            if block.getparent() is None:
                continue
            found = block.xpath(".//img") if block.tag != "img" else [block]
            src = _image_src(found[0], url) if found else None
            caption_text = _first_text(block, caption_xpaths)
            caption, credit = split_caption_credit(caption_text) if caption_text else (None, None)
            if src and src not in seen:
                seen.add(src)
                images.append({"src": src, "caption": caption or None, "credit": credit})
            _drop(block)
    for image in body.xpath(".//img"):
        src = _image_src(image, url)
        if src and src not in seen:
            seen.add(src)
            alt = normalize_space(image.get("alt") or "") or None
            images.append({"src": src, "caption": alt, "credit": None})
        _drop(image)
    return images


def _dates(
    tree, selectors, meta_names, ld_key, ld_objects, timezone
) -> tuple[str | None, str | None]:
    """Return (ISO value, source) for a date field, trying the visible line first."""
    for xpath in selectors:
        for element in xpath(tree):
            for text in (element.get("datetime"), element.get("content"), element_text(element)):
                if text and (parsed := parse_vietnamese_datetime(text, timezone)):
                    return parsed.iso(), "selector"
    value = meta_content(tree, *meta_names)
    if value and (parsed := parse_vietnamese_datetime(value, timezone)):
        return parsed.iso(), "meta"
    for obj in ld_objects:
        value = obj.get(ld_key)
        if isinstance(value, str) and (parsed := parse_vietnamese_datetime(value, timezone)):
            return parsed.iso(), "json-ld"
    return None, None


def _title(tree, profile: SiteProfile | None) -> tuple[str | None, str | None]:
    if profile and (title := _first_text(tree, profile.xpath["title"])):
        return title, "selector"
    if title := meta_content(tree, "og:title", "twitter:title"):
        return normalize_space(title), "meta"
    if title := _first_text(tree, generic.TITLES):
        return title, "generic"
    titles = tree.xpath("//title")
    if titles:
        title = normalize_space(element_text(titles[0]))
        for suffix in profile.title_suffixes if profile else ():
            title = title.removesuffix(suffix).strip()
        return title or None, "html-title"
    return None, None


def _tags(tree, profile: SiteProfile | None) -> list[str]:
    tags: list[str] = []
    for xpath in profile.xpath["tags"] if profile else ():
        for element in xpath(tree):
            text = normalize_space(element_text(element))
            if text and not is_punctuation_only(text) and text not in tags:
                tags.append(text)
        if tags:
            return tags
    keywords = meta_content(tree, "article:tag", "news_keywords")
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


def extract_with_profile(
    html: bytes | str, url: str, profile: SiteProfile | None, content_type: str | None = None
) -> dict:
    """Extract the Article fields of one page; ``profile`` None means the generic path."""
    tree = parse_html(html, content_type)
    ld_objects = json_ld_objects(tree)
    strip_non_content(tree)
    timezone = profile.timezone if profile else DEFAULT_TIMEZONE
    xp = profile.xpath if profile else None

    title, title_source = _title(tree, profile)
    lead = _first_text(tree, xp["lead"]) if xp else None
    if lead is None and not profile:
        lead = meta_content(tree, "description", "og:description")
        lead = normalize_space(lead) if lead else None
    published, published_source = _dates(
        tree, xp["published"] if xp else generic.DATES,
        ("article:published_time", "datePublished", "pubdate"), "datePublished", ld_objects,
        timezone,
    )
    modified, _ = _dates(
        tree, xp["modified"] if xp else (),
        ("article:modified_time", "dateModified", "og:updated_time"), "dateModified", ld_objects,
        timezone,
    )
    section = _first_text(tree, xp["section"]) if xp else None
    section = section or meta_content(tree, "article:section")
    tags = _tags(tree, profile)
    byline_text = _first_text(tree, xp["byline"]) if xp and xp["byline"] else None

    body_source = "selector"
    body_element = _first(tree, xp["body"]) if xp else None
    if body_element is None:
        body_source = "generic"
        body_element = generic.find_body(tree)

    images: list[dict] = []
    paragraphs: list[str] = []
    byline = parse_byline(byline_text, allow_bare_name=True) if byline_text else None
    if body_element is not None:
        for xpath in xp["remove"] if xp else generic.REMOVE:
            for element in xpath(body_element):
                _drop(element)
        images = _take_images(body_element, profile, url)
        captions = [image["caption"] for image in images if image["caption"]]
        paragraphs = clean_paragraphs(
            block_texts(body_element), captions=captions, exclude=[t for t in (lead, title) if t]
        )
        paragraphs, found_byline = pop_byline(paragraphs)
        byline = byline or found_byline
    if byline is None and (author := meta_content(tree, "author", "article:author")):
        byline = parse_byline(author, allow_bare_name=True)

    canonical = tree.xpath('//link[@rel="canonical"]/@href')
    language = tree.get("lang") or (profile.language if profile else None)
    record = {
        "url": url,
        "canonical_url": urljoin(url, canonical[0].strip()) if canonical else url,
        "site": profile.site_id if profile else None,
        "title": title,
        "lead": lead,
        "body": "\n\n".join(paragraphs) if paragraphs else None,
        "published": published,
        "published_source": published_source,
        "modified": modified,
        "authors": list(byline.authors) if byline else [],
        "credit": byline.credit if byline else None,
        "section": normalize_space(section) if section else None,
        "tags": tags,
        "images": images,
        "language": language.split("-")[0].lower() if language else None,
        "title_source": title_source,
        "body_source": body_source if paragraphs else None,
    }
    record["content_hash"] = content_hash(record)
    return record
