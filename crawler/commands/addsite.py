"""``scrapy addsite SITE_ID URL``: scaffold a new site, its fixture folder and expected fields.

Writes ``spiders/<site_id>.py`` (a profile skeleton guessed from the page: domain, article URL
pattern, the title/lead/body containers the generic extractor finds), saves the article page (and
a listing with ``--listing``) with its headers into ``tests/sites/<site_id>/``, and pre-fills
``expected.json`` from the generic extractor for the maintainer to correct. Pages come from the
web (``URL``), a saved file (``--from-file``, ``.gz`` decompressed) or a WARC file
(``--from-warc``: the last response for the URL). For a site that already has a module, only
fixtures are added; ``--refresh`` saves every page of the folder again from its URL (or from the
WARC) and says which expected fields no longer match, so a diff shows what the site changed (a
page it cannot get is named, kept as it was, and makes the command exit 2).
A page from a WARC file is decoded as the crawl decoded it (every Content-Encoding it accepts);
a page from a WARC file or the web is refused, with its URL (and record), when larger than
``DOWNLOAD_MAXSIZE`` as received or decoded (`storage.payload`).
A bad site id or URL, a page that cannot be had, a folder that cannot be written: one line and
exit code 2 (``crawler/cli.py``).

``scrapy addsite SITE_ID --from-crawl ARCHIVE_DIR`` writes the draft profile a ``scrapy crawl
portal`` of the site learned (``ARCHIVE_DIR/portal/<site>.json``: sitemaps, feeds, listings, the
article and listing URL shapes, the selectors, the next-page links) with two of the crawl's
article pages and one listing page, taken from its WARC files, as fixtures; ``expected.json`` is
filled from the draft's own reading, for the maintainer to check (``--learned`` names the crawled
site when the archive holds several).

Settings: ``ADDSITE_SPIDERS_DIR`` - where site modules go (default ``spiders``);
``ADDSITE_FIXTURES_DIR`` - where fixture folders go (default ``tests/sites``); ``USER_AGENT``;
``DOWNLOAD_MAXSIZE`` - the cap on a page fetched or read from a WARC file, as in a crawl.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import re
import sys
import urllib.request
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

from scrapy.exceptions import UsageError
from selectolax.lexbor import LexborNode
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from crawler.cli import InputError, OfflineCommand, cannot_write, one_line_errors
from crawler.parsing import generic
from crawler.parsing.article import extract_with_profile
from crawler.parsing.document import attribute, meta_content, parse_html
from crawler.parsing.profile import SiteProfile, compile_css
from crawler.sitefixtures import (
    FixtureError,
    SavedPage,
    expected_article,
    expected_listing,
    load_expected,
    load_page,
    next_page_name,
    page_names,
    read_listing,
    save_page,
    write_expected,
)
from spiders.classify import shape_regex
from storage.payload import (
    PayloadError,
    PayloadTooLarge,
    content_encodings,
    decode_content,
    record_payload,
)

SITE_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Headers that describe the transfer, not the page: the saved body is already decoded.
_TRANSFER_HEADERS = {"content-encoding", "transfer-encoding", "content-length", "connection"}
# Sapo containers common on Vietnamese portals, tried in order for the skeleton's lead.
_LEAD_GUESSES = (".detail-sapo", ".sapo", ".description", ".lead", ".summary")
FETCH_TIMEOUT = 30


class AddSiteError(RuntimeError):
    """A page could not be had or a file would be overwritten; the message says which."""


def _kept_headers(items) -> dict[str, str]:
    return {name: value for name, value in items if name.lower() not in _TRANSFER_HEADERS}


def fetch_page(name: str, url: str, user_agent: str, max_size: int) -> SavedPage:
    """GET ``url`` and return its body with the Content-Encoding undone, both no larger than
    ``max_size`` (the crawl's ``DOWNLOAD_MAXSIZE``; 0: no cap)."""
    request = urllib.request.Request(url, headers={"User-Agent": user_agent,
                                                   "Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
            body = response.read(max_size + 1) if max_size else response.read()
            if max_size and len(body) > max_size:
                raise PayloadTooLarge(f"body runs past DOWNLOAD_MAXSIZE ({max_size} bytes)")
            body = decode_content(body, content_encodings(response.headers.items()), max_size)
            return SavedPage(name, url, body, response.status,
                             _kept_headers(response.headers.items()))
    except OSError as error:
        raise AddSiteError(f"cannot fetch {url}: {error}") from error
    except PayloadError as error:
        raise AddSiteError(f"{url}: {error}") from error


def page_from_warc(name: str, url: str, warc: Path, max_size: int) -> SavedPage:
    """The last response record for ``url`` in a WARC file, its payload decoded as the crawl
    decoded it; ``max_size`` is the crawl's ``DOWNLOAD_MAXSIZE``."""
    offset = None
    try:
        with open(warc, "rb") as stream:
            records = ArchiveIterator(stream)
            for record in records:
                if record.rec_type == "response" and record.rec_headers.get_header(
                        "WARC-Target-URI") == url:
                    offset = records.get_record_offset()
            if offset is None:
                raise AddSiteError(f"{warc} holds no response for {url}")
            # Only the last capture is decoded: an earlier one may be broken, or a bomb.
            stream.seek(offset)
            record = next(iter(ArchiveIterator(stream)))
            body = record_payload(record, max_size)
    except OSError as error:
        raise AddSiteError(f"cannot read {warc}: {error}") from error
    except PayloadError as error:
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        raise AddSiteError(f"{url}: record {record_id} in {warc}: {error}") from error
    except ArchiveLoadFailed as error:
        raise AddSiteError(f"{warc} is not a WARC file: {error}") from error
    headers = record.http_headers
    return SavedPage(name, url, body, int(headers.get_statuscode() or 200),
                     _kept_headers(headers.headers))


def page_from_file(name: str, url: str, path: Path) -> SavedPage:
    """A page saved as a file (``.gz`` decompressed); it has no headers."""
    try:
        data = path.read_bytes()
        body = gzip.decompress(data) if path.suffix == ".gz" else data
    except (OSError, gzip.BadGzipFile) as error:
        raise AddSiteError(f"cannot read {path}: {error}") from error
    return SavedPage(name, url, body)


def guess_article_pattern(url: str) -> str:
    """An article URL pattern from one article URL: ids become ``\\d+``, slugs ``[^/]+``."""
    path = urlsplit(url).path
    parts = [part for part in path.split("/") if part]
    pattern = []
    for index, part in enumerate(parts):
        if index == len(parts) - 1:
            ending = re.fullmatch(r"(?:.*?([-_]))?(\d{4,})(\.\w+)?", part)
            extension = re.search(r"\.\w+$", part)
            if ending:
                pattern.append(r"[^/]*" + re.escape(ending[1] or "") + r"\d+"
                               + re.escape(ending[3] or ""))
            else:
                pattern.append(r"[^/]+" + (re.escape(extension[0]) if extension else ""))
        else:
            pattern.append(r"\d+" if part.isdigit() else r"[^/]+")
    return "^/" + "/".join(pattern) + ("/?$" if path.endswith("/") else "$")


def _css_of(element: LexborNode) -> str:
    """A CSS selector naming an element by its id or first class (an id with digits is per page)."""
    element_id = attribute(element, "id") or ""
    if element_id and not re.search(r"\d", element_id):
        return f"{element.tag}#{element_id}"
    classes = (attribute(element, "class") or "").split()
    return f"{element.tag}.{classes[0]}" if classes else element.tag


def _py(value: str) -> str:
    """A Python string literal in double quotes, as the project writes them."""
    return json.dumps(value, ensure_ascii=False)


def _py_regex(pattern: str) -> str:
    """A regular expression as a raw string literal (a quote in it falls back to escapes)."""
    return f'r"{pattern}"' if '"' not in pattern and not pattern.endswith("\\") else _py(pattern)


def render_profile(site_id: str, page: SavedPage) -> str:
    """Source of a new ``spiders/<site_id>.py``: data only, guessed from one article page."""
    parts = urlsplit(page.url)
    host = (parts.hostname or "").lower()
    domain = host.removeprefix("www.")
    tree = parse_html(page.body, page.content_type)
    body = generic.find_body(tree)
    body_css = _css_of(body) if body is not None else "article"
    lead_css = next((css for css in _LEAD_GUESSES if compile_css((css,))[0](tree)), None)
    name = meta_content(tree, "og:site_name", "application-name") or domain
    class_name = "".join(word.capitalize() for word in site_id.split("_")) + "Spider"
    lead_line = (f"    lead=({_py(lead_css)},),\n" if lead_css
                 else "    lead=(),  # TODO: the sapo\n")
    return f'''"""{domain}: TODO say what the site is and what is special about its pages.

Scaffolded by ``scrapy addsite`` from
{page.url}
Check every selector against the saved pages in ``tests/sites/{site_id}/`` and correct
``expected.json`` there.
"""

from __future__ import annotations

from crawler.parsing.profile import SiteProfile
from spiders.base import PortalSpider

PROFILE = SiteProfile(
    site_id={_py(site_id)},
    name={_py(name[:60])},  # TODO: the outlet's name
    domains=({_py(domain)},),
    base_url={_py(f"{parts.scheme}://{host}/")},
    sitemap_urls=(),  # TODO: "/sitemap.xml" if robots.txt lists one
    feed_urls=(),  # TODO: RSS feeds
    listing_urls=("/",),  # TODO: section pages
    article_url_pattern={_py_regex(guess_article_pattern(page.url))},
    listing_article_links=("a[href]",),  # TODO: the article links of a listing
    listing_next_page=(),  # TODO: the "next page" link
    title=("h1",),
{lead_line}    body=({_py(body_css)},),
    published=(),  # metadata (article:published_time, JSON-LD) is read without a selector
    section=(),
    tags=(),
    byline=(),
    image_blocks=("figure",),
    image_caption=("figcaption",),
    remove=(),  # TODO: share bars, related boxes, ads inside the body
)


class {class_name}(PortalSpider):
    """Crawl {domain}."""

    name = {_py(site_id)}
    profile = PROFILE
'''


def load_site_module(path: Path) -> ModuleType:
    """Import a site module from its file (it may live outside the ``spiders`` package)."""
    spec = importlib.util.spec_from_file_location(f"_addsite_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise AddSiteError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def site_spider(module: ModuleType, site_id: str) -> type:
    """The spider class of a site module."""
    for value in vars(module).values():
        if isinstance(value, type) and getattr(value, "name", None) == site_id:
            return value
    raise AddSiteError(f"{module.__file__} defines no spider named {site_id!r}")


class Command(OfflineCommand):
    def syntax(self) -> str:
        return ("SITE_ID [URL] [--from-file PATH | --from-warc FILE] [--listing URL "
                "[--listing-file PATH]] [--refresh]")

    def short_desc(self) -> str:
        return "Scaffold a site: profile skeleton, saved pages and expected fields"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--from-file", type=Path, help="the article page, saved (.gz too)")
        source.add_argument("--from-warc", type=Path,
                            help="a WARC file holding the pages (article, listing, refresh)")
        source.add_argument("--from-crawl", type=Path, metavar="ARCHIVE_DIR",
                            help="write the draft profile a `scrapy crawl portal` learned")
        parser.add_argument("--learned", metavar="SITE",
                            help="with --from-crawl: the crawled site (when there are several)")
        parser.add_argument("--listing", help="the URL of a listing page to save too")
        parser.add_argument("--listing-file", type=Path, help="the listing page, saved")
        parser.add_argument("--refresh", action="store_true",
                            help="save the folder's pages again and report what changed")

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args or len(args) > 2:
            raise UsageError("give SITE_ID and the URL of an article (URL optional with --refresh)")
        site_id = args[0]
        if not SITE_ID_RE.match(site_id):
            raise InputError(f"site id {site_id!r}: lower-case letters, digits and _ only, "
                             "starting with a letter")
        url = args[1] if len(args) > 1 else None
        if opts.from_crawl is not None:
            spiders_dir = Path(self.settings.get("ADDSITE_SPIDERS_DIR") or "spiders")
            folder = Path(self.settings.get("ADDSITE_FIXTURES_DIR") or "tests/sites") / site_id
            try:
                self._from_crawl(site_id, opts.from_crawl, opts.learned,
                                 spiders_dir / f"{site_id}.py", folder)
            except (AddSiteError, FixtureError) as error:
                print(f"scrapy addsite: {error}", file=sys.stderr)
                self.exitcode = 2
            return
        if url is None and not opts.refresh:
            raise UsageError("give the URL of an article page of the site")
        for name, value in (("URL", url), ("--listing", opts.listing)):
            parts = urlsplit(value or "")
            if value and (parts.scheme not in ("http", "https") or not parts.hostname):
                raise InputError(f"{name} {value}: not an http(s) URL of the site")
        spiders_dir = Path(self.settings.get("ADDSITE_SPIDERS_DIR") or "spiders")
        folder = Path(self.settings.get("ADDSITE_FIXTURES_DIR") or "tests/sites") / site_id
        try:
            if opts.refresh:
                self._refresh(site_id, spiders_dir / f"{site_id}.py", folder, opts)
            if url:
                self._add(site_id, url, spiders_dir / f"{site_id}.py", folder, opts)
        except (AddSiteError, FixtureError) as error:
            raise InputError(str(error)) from error
        except OSError as error:  # a folder that cannot be written
            raise cannot_write(error.filename, error) from error

    def _page(self, name: str, url: str, opts: argparse.Namespace,
              file: Path | None = None) -> SavedPage:
        if file is not None:
            return page_from_file(name, url, file)
        if opts.from_warc is not None:
            return page_from_warc(name, url, opts.from_warc,
                                  self.settings.getint("DOWNLOAD_MAXSIZE"))
        return fetch_page(name, url, self.settings.get("USER_AGENT") or "scrapy",
                          self.settings.getint("DOWNLOAD_MAXSIZE"))

    def _add(self, site_id: str, url: str, module_path: Path, folder: Path,
             opts: argparse.Namespace) -> None:
        article = self._page(next_page_name(folder, "article"), url, opts, opts.from_file)
        written: list[Path] = []
        if not module_path.exists():
            module_path.parent.mkdir(parents=True, exist_ok=True)
            module_path.write_text(render_profile(site_id, article), encoding="utf-8")
            written.append(module_path)
        spider = site_spider(load_site_module(module_path), site_id)
        expected = load_expected(folder) if (folder / "expected.json").exists() else {
            "site": site_id, "articles": {}, "listings": {}}
        written += save_page(folder, article)
        # The generic extractor's reading: what the page says, independent of the new selectors.
        record = extract_with_profile(article.body, article.url, None, article.content_type)
        expected["articles"][article.name] = expected_article(record)
        if opts.listing:
            listing = self._page(next_page_name(folder, "listing"), opts.listing, opts,
                                 opts.listing_file)
            written += save_page(folder, listing)
            articles, next_page = read_listing(spider, listing)
            expected["listings"][listing.name] = {"url": listing.url,
                                                  **expected_listing(articles, next_page)}
        finish(folder, expected, written,
               f"correct {folder / 'expected.json'} and the selectors in {module_path}", site_id)

    def _refresh(self, site_id: str, module_path: Path, folder: Path,
                 opts: argparse.Namespace) -> None:
        if not module_path.exists():
            raise AddSiteError(f"{module_path} does not exist: nothing to refresh")
        spider = site_spider(load_site_module(module_path), site_id)
        profile: SiteProfile = spider.profile
        expected = load_expected(folder)
        for name in page_names(folder):
            old = load_page(folder, name)
            try:
                new = self._page(name, old.url, opts)
            except AddSiteError as error:
                # The other pages are still worth refreshing; the saved one is kept.
                print(f"scrapy addsite: {folder / name} not refreshed: {error}", file=sys.stderr)
                self.exitcode = 2
                continue
            save_page(folder, new)
            state = "unchanged" if new.body == old.body else "changed"
            print(f"{folder / name}: {old.url} {state}")
            if new.kind == "article" and name in expected["articles"]:
                record = extract_with_profile(new.body, new.url, profile, new.content_type)
                for field, value in expected["articles"][name]["fields"].items():
                    if record.get(field) != value:
                        print(f"  {field}: expected {value!r}, now {record.get(field)!r}")
                if record["fallback"]:
                    print(f"  the profile's selectors miss {', '.join(record['fallback'])}")

    def _from_crawl(self, site_id: str, archive: Path, learned: str | None, module_path: Path,
                    folder: Path) -> None:
        state = learned_state(archive, learned)
        if module_path.exists():
            raise AddSiteError(f"{module_path} exists already: not overwritten")
        if folder.exists() and page_names(folder):
            raise AddSiteError(f"{folder} holds saved pages already: not overwritten")
        source = render_draft_profile(site_id, state)
        warc_dir = archive / "warc"
        max_size = self.settings.getint("DOWNLOAD_MAXSIZE")
        articles = [page_from_warcs(f"article-{n}", url, warc_dir, max_size)
                    for n, url in enumerate(state.get("sample_urls", [])[:2], 1)]
        listings = state.get("listings") or []
        listing_url = listings[1] if len(listings) > 1 else (listings[0] if listings else None)
        if not articles or listing_url is None:
            raise AddSiteError(f"{archive}: the crawl learned no article or listing page")
        listing = page_from_warcs("listing-1", listing_url, warc_dir, max_size)
        module_path.parent.mkdir(parents=True, exist_ok=True)
        module_path.write_text(source, encoding="utf-8")
        written = [module_path]
        spider = site_spider(load_site_module(module_path), site_id)
        expected = {"site": site_id, "articles": {}, "listings": {},
                    "note": "filled from the draft profile's reading: check every field"}
        for page in articles:
            written += save_page(folder, page, note="saved by scrapy addsite --from-crawl")
            record = extract_with_profile(page.body, page.url, spider.profile, page.content_type)
            expected["articles"][page.name] = expected_article(record)
        written += save_page(folder, listing, note="saved by scrapy addsite --from-crawl")
        links, next_page = read_listing(spider, listing)
        expected["listings"][listing.name] = {"url": listing.url,
                                              **expected_listing(links, next_page)}
        finish(folder, expected, written,
               f"check {folder / 'expected.json'} and {module_path}", site_id)


def learned_state(archive: Path, learned: str | None) -> dict:
    """What a portal crawl into ``archive`` learned (``archive/portal/<site>.json``)."""
    directory = archive / "portal"
    files = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if learned:
        files = [path for path in files if path.stem == learned]
    if len(files) != 1:
        names = ", ".join(path.stem for path in sorted(directory.glob("*.json"))) or "none"
        raise AddSiteError(f"{archive}: give --learned SITE, one of the crawled sites: {names}"
                           if len(files) > 1 or learned else
                           f"{archive}: no `scrapy crawl portal` learned anything here "
                           f"({directory} holds no <site>.json)")
    try:
        return json.loads(files[0].read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AddSiteError(f"{files[0]}: unreadable: {error}") from error


def finish(folder: Path, expected: dict, written: list[Path], todo: str, site_id: str) -> None:
    """Write ``expected.json``, list what was written and say what the maintainer does next."""
    written.append(write_expected(folder, expected))
    for path in written:
        print(f"wrote {path}")
    print(f"Next: {todo}, then run: .venv/bin/python -m pytest tests/test_sites.py -k {site_id}")


def page_from_warcs(name: str, url: str, warc_dir: Path, max_size: int) -> SavedPage:
    """The last response for ``url`` in the WARC files of ``warc_dir`` (decoded under the cap)."""
    found = None
    for warc in sorted(warc_dir.glob("*.warc.gz")):
        try:
            found = page_from_warc(name, url, warc, max_size)
        except AddSiteError:
            continue
    if found is None:
        raise AddSiteError(f"{warc_dir}: no response for {url}")
    return found


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _alternatives(shapes: list[str]) -> str | None:
    if not shapes:
        return None
    regexes = [shape_regex(shape) for shape in shapes]
    return "(?i)" + (regexes[0] if len(regexes) == 1 else "|".join(f"(?:{r})" for r in regexes))


def _date_pattern(shapes: list[str]) -> str | None:
    """``year``/``month`` (and ``day``) groups when every article shape starts with them."""
    if not shapes or not all(re.match(r"^/D4/D2/", shape) for shape in shapes):
        return None
    if all(re.match(r"^/D4/D2/D2/", shape) for shape in shapes):
        return r"^/(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})/"
    return r"^/(?P<year>\d{4})/(?P<month>\d{2})/"


def render_draft_profile(site_id: str, state: dict) -> str:
    """Source of a draft ``spiders/<site_id>.py`` from a portal crawl's learned state.

    Long because most of it is the module's text as a template: one field a line, read as the
    file it writes, which a split into helpers would only scatter.
    """
    from spiders.learn import IMAGE_BLOCKS, IMAGE_CAPTIONS

    base = urlsplit(state["base_url"])
    host = (base.hostname or "").lower()
    domains = state.get("domains") or [host.removeprefix("www.")]
    selectors = state.get("selectors") or {}
    article_pattern = _alternatives(state.get("article_shapes") or [])
    if article_pattern is None:
        raise AddSiteError("the crawl decided no article URL shape (too few articles?)")
    listing_pattern = _alternatives(state.get("listing_shapes") or [])
    date_pattern = _date_pattern(state.get("article_shapes") or [])

    def paths(key: str) -> str:
        items = [_path_of(url) for url in state.get(key) or []]
        return "(" + "".join(f"{_py(item)}, " for item in items).rstrip(" ") + ")"

    def one(name: str, default: str = "") -> str:
        value = selectors.get(name)
        return f"({_py(value)},)" if value else f"({default})"

    def many(values) -> str:
        return "(" + "".join(f"{_py(v)}, " for v in values).rstrip(" ") + ")"

    class_name = "".join(word.capitalize() for word in site_id.split("_")) + "Spider"
    how = ("its articles were read with these selectors" if state.get("extraction") == "profile"
           else "its articles were read with the generic path, which read the sample pages "
                "better than these selectors")
    return f'''"""{state.get("name") or host}: a draft profile learned by `scrapy crawl portal`.

Written by ``scrapy addsite {site_id} --from-crawl`` from what the crawl of
{state.get("start_url")} learned ({how}). Check every
selector and pattern against the saved pages in ``tests/sites/{site_id}/`` and correct
``expected.json`` there; say here what is special about the site's pages.
"""

from __future__ import annotations

from crawler.parsing.profile import SiteProfile
from spiders.base import PortalSpider

PROFILE = SiteProfile(
    site_id={_py(site_id)},
    name={_py((state.get("name") or host)[:60])},
    domains={many(domains)},
    base_url={_py(state["base_url"])},
    sitemap_urls={paths("sitemaps")},
    feed_urls={paths("feeds")},
    listing_urls={paths("listings")},
    article_url_pattern={_py_regex(article_pattern)},
    article_date_pattern={_py_regex(date_pattern) if date_pattern else None},
    listing_url_pattern={_py_regex(listing_pattern) if listing_pattern else None},
    listing_article_links=("a[href]",),
    listing_next_page={many(state.get("next_page_selectors") or [])},
    title={one("title", '"h1",')},
    lead={one("lead")},
    body={one("body", '"article",')},
    published={one("published")},  # metadata (JSON-LD, article:published_time) needs none
    image_blocks={many(IMAGE_BLOCKS)},
    image_caption={many(IMAGE_CAPTIONS)},
    remove={many(selectors.get("remove") or [])},
)


class {class_name}(PortalSpider):
    """Crawl {host} (draft: learned by the portal spider)."""

    name = {_py(site_id)}
    profile = PROFILE
'''
