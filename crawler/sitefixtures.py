"""Saved pages of one site: the fixture folder ``tests/sites/<site_id>/`` and its expected fields.

A folder holds, per saved page, the body exactly as the server sent it (after its
``Content-Encoding`` is undone; stored gzip-compressed, ``<name>.html.gz``) and what came with it
(``<name>.headers.json``: URL, status, headers). Decoding is left to the extractor, so a page in
a legacy charset is tested as the crawler sees it. Page names say what a page is: ``article-1``,
``listing-1``. ``expected.json`` holds, per article, the exact Article fields and ``with`` /
``without`` snippets of the body, and, per listing, the article links found and the next page.

Used by ``scrapy addsite`` (writes a folder), ``tests/test_sites.py`` (checks every folder) and
the docs (``docs/adding-a-site.md``). No settings.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

# The Article fields expected.json pins exactly (the body is checked by snippets: it is long and
# a reworded footer should not mean re-copying it).
EXPECTED_FIELDS = (
    "title", "lead", "published", "modified", "authors", "credit", "section", "tags", "images",
    "language",
)
PAGE_KINDS = ("article", "listing")


class FixtureError(ValueError):
    """A fixture folder is missing a file or holds an unreadable one."""


@dataclass(frozen=True)
class SavedPage:
    """One saved response: where it came from and its body bytes as received."""

    name: str
    url: str
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``article`` or ``listing``, from the page's name."""
        return self.name.partition("-")[0]

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header, if the page was saved with its headers."""
        for name, value in self.headers.items():
            if name.lower() == "content-type":
                return value
        return None


def save_page(folder: Path, page: SavedPage, note: str | None = None) -> list[Path]:
    """Write ``page`` into ``folder`` (created if needed); return the files written.

    The gzip stream has no name and no time stamp, so saving the same bytes again leaves the file
    unchanged and a ``--refresh`` diff shows only what the site changed.
    """
    if page.kind not in PAGE_KINDS:
        raise FixtureError(f"page name {page.name!r} must start with one of {PAGE_KINDS}")
    folder.mkdir(parents=True, exist_ok=True)
    body_file = folder / f"{page.name}.html.gz"
    body_file.write_bytes(gzip.compress(page.body, compresslevel=9, mtime=0))
    meta: dict[str, object] = {"url": page.url, "status": page.status, "headers": page.headers}
    if note:
        meta["note"] = note
    headers_file = folder / f"{page.name}.headers.json"
    headers_file.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    return [body_file, headers_file]


def load_page(folder: Path, name: str) -> SavedPage:
    """Read the page ``name`` of ``folder``; a missing or broken file raises `FixtureError`."""
    body_file = folder / f"{name}.html.gz"
    headers_file = folder / f"{name}.headers.json"
    try:
        body = gzip.decompress(body_file.read_bytes())
        meta = json.loads(headers_file.read_text(encoding="utf-8"))
    except (OSError, EOFError, gzip.BadGzipFile, json.JSONDecodeError) as error:
        raise FixtureError(f"{folder}/{name}: cannot read the saved page: {error}") from error
    if "url" not in meta:
        raise FixtureError(f"{headers_file}: no \"url\" (the address the page was fetched from)")
    return SavedPage(name, meta["url"], body, int(meta.get("status", 200)),
                     dict(meta.get("headers") or {}))


def page_names(folder: Path, kind: str | None = None) -> list[str]:
    """Names of the pages saved in ``folder`` (of one ``kind``), in name order."""
    names = sorted(path.name.removesuffix(".html.gz") for path in folder.glob("*.html.gz"))
    return [name for name in names if kind is None or name.partition("-")[0] == kind]


def next_page_name(folder: Path, kind: str) -> str:
    """The first free ``<kind>-<n>`` name in ``folder``."""
    taken = set(page_names(folder, kind))
    number = 1
    while f"{kind}-{number}" in taken:
        number += 1
    return f"{kind}-{number}"


def load_expected(folder: Path) -> dict:
    """``expected.json`` of a fixture folder."""
    path = folder / "expected.json"
    try:
        expected = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise FixtureError(f"{path}: cannot read the expected fields: {error}") from error
    expected.setdefault("articles", {})
    expected.setdefault("listings", {})
    return expected


def write_expected(folder: Path, expected: dict) -> Path:
    """Write ``expected.json`` (sorted by page name, UTF-8 kept readable)."""
    path = folder / "expected.json"
    expected = {
        **expected,
        "articles": dict(sorted(expected.get("articles", {}).items())),
        "listings": dict(sorted(expected.get("listings", {}).items())),
    }
    path.write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def expected_article(record: dict, snippets: int = 2) -> dict:
    """An ``expected.json`` entry pre-filled from an extracted record, for a maintainer to check.

    The exact fields are the record's; ``with`` holds the body's first and last paragraphs'
    openings, ``without`` is left empty for the furniture the maintainer sees on the page.
    """
    paragraphs = [p for p in (record.get("body") or "").split("\n\n") if p]
    picks = [paragraphs[0], paragraphs[-1]] if len(paragraphs) > 1 else paragraphs
    return {
        "url": record["url"],
        "fields": {name: record.get(name) for name in EXPECTED_FIELDS},
        "with": [paragraph[:80] for paragraph in picks[:snippets]],
        "without": [],
    }


def expected_listing(article_urls: list[str], next_page: str | None) -> dict:
    """An ``expected.json`` listing entry: how many articles it links, a few of them, next page."""
    return {"article_links": len(article_urls), "includes": article_urls[:3],
            "next_page": next_page}


def read_listing(spider_class: type, page: SavedPage) -> tuple[list[str], str | None]:
    """Run a portal spider's listing callback on a saved listing page, offline.

    Returns the article URLs the spider would request (in page order, each once) and the URL of
    the next listing page it would follow, or None.
    """
    # Imported here: reading and writing fixtures needs no Scrapy.
    from scrapy.http import HtmlResponse, Request
    from scrapy.utils.test import get_crawler

    # Settings that keep the spider offline: no history, no job directory.
    crawler = get_crawler(spider_class, {"INCREMENTAL": False, "JOBDIR": "", "ARCHIVE_DIR": "."})
    spider = spider_class.from_crawler(crawler)
    response = HtmlResponse(page.url, status=page.status, body=page.body,
                            headers=dict(page.headers), request=Request(page.url))
    articles: list[str] = []
    next_page = None
    for request in spider.parse_listing(response, page=1):
        if request.callback == spider.parse_article:
            articles.append(request.url)
        elif request.callback == spider.parse_listing and next_page is None:
            next_page = request.url
    return articles, next_page
