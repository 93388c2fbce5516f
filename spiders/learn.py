"""Learn an unknown portal's article selectors from a few of its pages (no Scrapy here).

The portal spider reads its first article pages with the generic path and, from each, notes the
CSS selectors of what it found (`page_selectors`): the title element, the sapo outside the body,
the paragraph container, the visible date line, and the boxes inside the container that are
page furniture (link lists, and boxes whose text repeats on other pages). `agree` keeps the
selectors most sample pages share; `LearnedSelectors.profile` makes a `SiteProfile` of them,
which `better_than_generic` checks against the generic reading of the same pages before the
spider uses it: fewer lines repeated across pages (boilerplate) and no text lost.

The same selectors are the draft profile ``scrapy addsite --from-crawl`` writes.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.parsing.dates import parse_vietnamese_datetime
from crawler.parsing.profile import SiteProfile, compile_css
from spiders.classify import paragraph_container

IMAGE_BLOCKS = ("figure", "table.image", ".image")
IMAGE_CAPTIONS = ("figcaption", ".image-caption", ".caption", "td.caption", "[class*=caption]")
# The share of sample pages a selector must hold on to be kept.
AGREEMENT = 0.6
_WORDS = re.compile(r"\w+")


def _text(node: LexborNode) -> str:
    return " ".join((node.text(deep=True, separator=" ") or "").split())


def _key(text: str) -> str:
    # NFC first: a windows-1258 page decodes to letters followed by combining tone marks.
    return " ".join(_WORDS.findall(unicodedata.normalize("NFC", text).lower()))


def css_of(node: LexborNode) -> str | None:
    """``tag#id`` (an id without digits) or ``tag.first-class``; None for a bare tag."""
    attrs = node.attributes
    node_id = (attrs.get("id") or "").strip()
    if node_id and not re.search(r"\d", node_id) and re.fullmatch(r"[\w-]+", node_id):
        return f"{node.tag}#{node_id}"
    for name in (attrs.get("class") or "").split():
        if re.fullmatch(r"[A-Za-z_][\w-]*", name) and not re.search(r"\d", name):
            return f"{node.tag}.{name}"
    return None


def _inside(node: LexborNode, container: LexborNode | None) -> bool:
    parent = node
    while parent is not None:
        if container is not None and parent.mem_id == container.mem_id:
            return True
        parent = parent.parent
    return False


def page_selectors(html: str, record: dict) -> dict[str, object]:
    """The selectors of one article page, given the generic path's record of it."""
    tree = LexborHTMLParser(html)
    for node in tree.css("script, style, noscript"):
        node.decompose()
    container, _ = paragraph_container(tree)
    found: dict[str, object] = {"body": css_of(container) if container is not None else None}
    title = _key(record.get("title") or "")
    html_title = _key(_text(tree.css_first("title"))) if tree.css_first("title") else ""
    found["title"] = None
    for node in tree.css("h1, h2, h3, [class*=title], [class*=tieude], [class*=headline]"):
        key = _key(_text(node))
        if key and not _inside(node, container) and (
                key == title or (len(key) > 20 and key in html_title)):
            found["title"] = css_of(node) or (node.tag if node.tag == "h1" else None)
            if found["title"]:
                break
    lead = _key(record.get("lead") or "")
    found["lead"] = None
    if lead:
        for node in tree.css("p, div, h2, h3, span, strong"):
            if _key(_text(node)) == lead and not _inside(node, container):
                found["lead"] = css_of(node)
                if found["lead"]:
                    break
    found["published"] = None
    if record.get("published_source") == "visible" and record.get("published"):
        for node in tree.css("[class*=date], [class*=time], time, span, td, div"):
            text = _text(node)
            if len(text) > 80 or not re.search(r"\d{1,2}:\d{2}", text):
                continue
            parsed = parse_vietnamese_datetime(text, "Asia/Ho_Chi_Minh", fallback=False)
            if parsed and parsed.has_time and parsed.iso() == record["published"]:
                found["published"] = css_of(node)
                if found["published"]:
                    break
    furniture = []
    if container is not None:
        for child in container.iter():
            text = _text(child)
            selector = css_of(child)
            if child.tag in ("p", "figure", "img", "table") or not selector or not text:
                continue
            link_chars = sum(len(_text(a)) for a in child.css("a"))
            if link_chars * 2 > len(text) or re.match(r"(?i)(chia sẻ|quảng cáo|share)", text):
                furniture.append(selector)
    found["furniture"] = furniture
    return found


@dataclass
class LearnedSelectors:
    """The selectors a site's sample pages agree on."""

    title: str | None = None
    lead: str | None = None
    body: str | None = None
    published: str | None = None
    remove: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict | None) -> LearnedSelectors | None:
        """Selectors saved by `to_json` (None when nothing was saved)."""
        if not data:
            return None
        return cls(**{k: data.get(k) for k in ("title", "lead", "body", "published")},
                   remove=list(data.get("remove") or []))

    def profile(self, site_id: str, name: str, domains: tuple[str, ...], base_url: str,
                **discovery) -> SiteProfile:
        """A site profile with these selectors (and ``discovery``: URL patterns, start URLs)."""
        return SiteProfile(
            site_id=site_id, name=name, domains=domains, base_url=base_url,
            title=(self.title,) if self.title else ("h1",),
            lead=(self.lead,) if self.lead else (),
            body=(self.body,) if self.body else ("article",),
            published=(self.published,) if self.published else (),
            image_blocks=IMAGE_BLOCKS, image_caption=IMAGE_CAPTIONS,
            remove=tuple(self.remove), **discovery,
        )


def agree(samples: list[dict[str, object]]) -> LearnedSelectors | None:
    """The selectors most ``samples`` share; None without an agreed body container."""
    def common(name: str) -> str | None:
        counts = Counter(sample.get(name) for sample in samples if sample.get(name))
        if not counts:
            return None
        value, count = counts.most_common(1)[0]
        return value if count >= AGREEMENT * len(samples) else None

    body = common("body")
    if body is None:
        return None
    furniture = Counter(s for sample in samples for s in set(sample.get("furniture") or []))
    remove = sorted(s for s, n in furniture.items() if n >= 2 or len(samples) == 1)
    try:
        compile_css(tuple(filter(None, (body, common("title"), common("lead"),
                                        common("published"), *remove))))
    except ValueError:
        return None
    return LearnedSelectors(common("title"), common("lead"), body, common("published"), remove)


def boilerplate_lines(records: list[dict]) -> int:
    """Lines of lead and body that recur on two or more of the pages: furniture, not text."""
    seen: Counter = Counter()
    per_page = []
    for record in records:
        lines = {_key(line) for part in (record.get("lead"), record.get("body")) if part
                 for line in part.split("\n\n") if _key(line)}
        per_page.append(lines)
        seen.update(lines)
    return sum(1 for lines in per_page for line in lines if seen[line] >= 2)


def text_size(records: list[dict]) -> int:
    """Characters of lead and body over all ``records``."""
    return sum(len(record.get("lead") or "") + len(record.get("body") or "") for record in records)


def better_than_generic(learned: list[dict], generic: list[dict]) -> bool:
    """Whether the learned profile's readings beat the generic ones on the same sample pages.

    Every page must keep title and body without the generic fallback, the publication date
    wherever the generic path found one, and at least 70% of the generic path's text once its
    repeated lines are taken out; and the profile's readings must carry fewer repeated lines.
    """
    for mine, theirs in zip(learned, generic, strict=True):
        if mine.get("fallback") or not mine.get("body") or not mine.get("title"):
            return False
        if theirs.get("published") and mine.get("published") != theirs.get("published"):
            return False
    mine_noise, their_noise = boilerplate_lines(learned), boilerplate_lines(generic)
    if mine_noise >= their_noise:
        return False
    return text_size(learned) >= 0.7 * (text_size(generic) - 80 * their_noise)


def next_link_selector(tree: LexborHTMLParser, page_url: str, next_url: str) -> str | None:
    """A CSS selector for the link of a listing page that leads to ``next_url``.

    ``rel=next`` first, then the link's own class (``a.next``), then "the last link of the
    paging box" (``div.paging a:last-of-type``, the "Tiếp »" of old portals).
    """
    for node in tree.css("link[rel=next][href], a[href]"):
        if urljoin(page_url, (node.attributes.get("href") or "").strip()) != next_url:
            continue
        if (node.attributes.get("rel") or "").lower() == "next":
            return f"{node.tag}[rel=next]"
        if own := css_of(node):
            return own
        parent = node.parent
        box = css_of(parent) if parent is not None else None
        anchors = parent.css("a") if parent is not None else []
        if box and anchors and anchors[-1].mem_id == node.mem_id:
            return f"{box} a:last-of-type"
    return None
