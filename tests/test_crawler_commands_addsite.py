"""``scrapy addsite``: from one saved page of an unsupported outlet to a site whose test passes.

The page is one of the extraction benchmark's (an English outlet no profile covers). The test
plays the maintainer: it runs ``addsite`` into a scratch spiders and fixtures folder, edits only
the selectors of the written module and ``expected.json``, then runs the checks
``tests/test_sites.py`` runs on every real site folder.

What the scaffold pre-fills is checked against fields known without our code: the replica
portal's ground truth (``tests/replica/content.py`` knows every article's title, lead, body,
date, authors, section, tags and images, and every listing page's articles), and the fields a
maintainer wrote by hand into ``tests/sites/<site>/expected.json`` for a saved real page.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from crawler.commands.addsite import (
    guess_article_pattern,
    load_site_module,
    page_from_warc,
    site_spider,
)
from crawler.parsing.article import extract_with_profile
from crawler.settings import DOWNLOAD_MAXSIZE
from crawler.sitefixtures import load_expected, load_page, read_listing, write_expected
from storage.warc import WarcWriter
from tests.conftest import scrapy
from tests.encoded_warc import ENCODERS, Archived, archive_articles, write_response
from tests.encoded_warc import bomb as bomb_body
from tests.replica.content import ArticleSpec, build_site
from tests.replica.pages import LISTING_PAGE_SIZE
from tests.replica.process import ReplicaProcess
from tests.test_sites import check_article, check_listing

BENCHMARK = Path(__file__).parent / "data" / "article-extraction" / (
    "article-extraction-benchmark.tar.xz")
PAGE_ID = "06e5123e4ef7cfb4533250dc45d1e03d0838fc66223f45c583c4d12f48b4da85"


@pytest.fixture(scope="module")
def saved_page(tmp_path_factory) -> tuple[Path, str]:
    """The benchmark page as a file, and the URL it was fetched from."""
    folder = tmp_path_factory.mktemp("saved")
    with tarfile.open(BENCHMARK) as archive:
        html = archive.extractfile(f"{PAGE_ID}.html").read()
        truth = json.load(archive.extractfile("ground-truth.json"))
    path = folder / "page.html"
    path.write_bytes(html)
    return path, truth[PAGE_ID]["url"]


def addsite(tmp: Path, *args: str):
    return scrapy("addsite", *args, "-s", f"ADDSITE_SPIDERS_DIR={tmp / 'spiders'}",
                  "-s", f"ADDSITE_FIXTURES_DIR={tmp / 'sites'}")


def test_guessed_article_pattern_generalises_ids_and_slugs():
    assert guess_article_pattern("https://x.vn/channel/5085/202002/some-title-2536418/") == (
        r"^/[^/]+/\d+/\d+/[^/]*\-\d+/?$")
    assert guess_article_pattern("https://x.vn/a-b-c-188260307071033787.chn") == (
        r"^/[^/]*\-\d+\.chn$")
    assert guess_article_pattern("https://x.vn/2019/11/18/a-story/") == r"^/\d+/\d+/\d+/[^/]+/?$"


def test_addsite_gives_a_site_whose_test_passes_after_editing_selectors_and_expected(
        tmp_path, saved_page):
    path, url = saved_page
    result = addsite(tmp_path, "newoutlet", url, "--from-file", str(path),
                     "--listing", url, "--listing-file", str(path))
    assert result.returncode == 0, result.stderr
    module_path = tmp_path / "spiders" / "newoutlet.py"
    folder = tmp_path / "sites" / "newoutlet"
    assert module_path.exists() and (folder / "expected.json").exists()
    page = load_page(folder, "article-1")
    assert page.url == url and page.body == path.read_bytes()

    spider = site_spider(load_site_module(module_path), "newoutlet")
    assert spider.profile.domains == ("venturebeat.com",)
    assert spider.profile.article_url_regex.search("/2019/11/18/new-york-state-ag-probe/")
    expected = load_expected(folder)["articles"]["article-1"]
    # Pre-filled from the generic extractor: what the page says.
    assert expected["fields"]["title"] == (
        "New York State Attorney General investigating WeWork and former CEO")
    assert expected["with"]

    # The maintainer's edits. Selectors: a listing's article links are those of the story list,
    # not every link of the page.
    source = module_path.read_text(encoding="utf-8")
    module_path.write_text(source.replace(
        'listing_article_links=("a[href]",)',
        'listing_article_links=(".article-content a[href]",)'), encoding="utf-8")
    spider = site_spider(load_site_module(module_path), "newoutlet")
    # expected.json: the generic path took the <meta> description for the lead; the page shows no
    # sapo, so the record has none.
    entry = load_expected(folder)
    entry["articles"]["article-1"]["fields"]["lead"] = None
    write_expected(folder, entry)

    check_article(folder, "article-1", spider.profile)
    check_listing_after_edit(folder, spider)


def check_listing_after_edit(folder: Path, spider: type) -> None:
    """Re-pin the listing's count after the selector edit, then check it like any site."""
    entry = load_expected(folder)
    listing = entry["listings"]["listing-1"]
    articles, _ = read_listing(spider, load_page(folder, "listing-1"))
    assert articles, "the edited selector finds no article link"
    listing["article_links"], listing["includes"] = len(articles), articles[:3]
    write_expected(folder, entry)
    check_listing(folder, "listing-1", spider)


# Enough articles that a section has a second listing page.
REPLICA_ARTICLES = 120
SITES = Path(__file__).parent / "sites"


def replica_article() -> ArticleSpec:
    """An article with tags and images, in the section with the most listing pages."""
    site = build_site(articles=REPLICA_ARTICLES)
    section = max({a.section for a in site.articles},
                  key=lambda s: len(site.articles_in_section(s)))
    assert len(site.articles_in_section(section)) > LISTING_PAGE_SIZE
    return next(a for a in site.articles_in_section(section) if a.tags and a.images)


def true_fields(article: ArticleSpec, origin: str) -> dict:
    """The Article fields the replica's page shows, from the replica's own description of it."""
    return {
        "title": article.title, "lead": article.lead, "published": article.published_iso,
        "modified": None,  # the page shows no modification time
        "authors": list(article.authors), "credit": article.credit,
        "section": article.section.name, "tags": list(article.tags),
        "images": [{"src": origin + image.src, "caption": image.caption, "credit": image.credit}
                   for image in article.images],
        "language": "vi",
    }


@pytest.fixture(scope="module")
def replica_scaffold(tmp_path_factory) -> tuple[Path, str, ArticleSpec]:
    """``addsite`` run on a replica article and its section's first listing page, over HTTP."""
    tmp = tmp_path_factory.mktemp("replica-scaffold")
    article = replica_article()
    with ReplicaProcess(articles=REPLICA_ARTICLES) as portal:
        result = addsite(tmp, "replica", portal.url(article.path),
                         "--listing", portal.url(article.section.path))
        origin = portal.origin
    assert result.returncode == 0, result.stderr
    return tmp, origin, article


def test_addsite_prefills_expected_json_with_what_the_replica_page_says(replica_scaffold):
    tmp, origin, article = replica_scaffold
    expected = load_expected(tmp / "sites" / "replica")["articles"]["article-1"]
    truth = true_fields(article, origin)
    assert expected["url"] == origin + article.path
    # What the generic extractor reads from any page; section and tags need the site's selectors.
    read_anywhere = ("title", "lead", "published", "modified", "authors", "credit", "images",
                     "language")
    assert {name: expected["fields"][name] for name in read_anywhere} == {
        name: truth[name] for name in read_anywhere}
    assert expected["with"] == [article.paragraphs[0][:80], article.paragraphs[-1][:80]]


def test_addsite_scaffold_reads_the_replica_as_it_is_once_its_todos_are_done(replica_scaffold):
    tmp, origin, article = replica_scaffold
    site = build_site(articles=REPLICA_ARTICLES)
    folder, module_path = tmp / "sites" / "replica", tmp / "spiders" / "replica.py"
    spider = site_spider(load_site_module(module_path), "replica")
    # Before any edit: every link the guessed pattern takes from the listing is a real article,
    # and every article of the listing page is among them.
    listed = [origin + a.path for a in site.articles_in_section(article.section)]
    on_page = listed[:LISTING_PAGE_SIZE]
    found, _ = read_listing(spider, load_page(folder, "listing-1"))
    all_articles = {origin + a.path for a in site.articles}
    assert set(on_page) <= set(found) <= all_articles
    scaffolded = load_expected(folder)["listings"]["listing-1"]
    assert set(scaffolded["includes"]) <= all_articles

    # The maintainer does the TODOs the page calls for: section, tags, the image blocks (a
    # table here, not <figure>), the listing's story links and its next-page link. The guessed
    # title, lead and body selectors stay as addsite wrote them.
    source = module_path.read_text(encoding="utf-8")
    for old, new in (
        ("section=(),", 'section=(".breadcrumb a.cate",),'),
        ("tags=(),", 'tags=(".detail-tags a",),'),
        ('image_blocks=("figure",)', 'image_blocks=("table.image",)'),
        ('image_caption=("figcaption",)', 'image_caption=(".image-caption",)'),
        ('listing_article_links=("a[href]",)', 'listing_article_links=(".list-news a.title",)'),
        ("listing_next_page=(),", 'listing_next_page=(".paging a.next",),'),
    ):
        assert old in source, old
        source = source.replace(old, new)
    module_path.write_text(source, encoding="utf-8")
    spider = site_spider(load_site_module(module_path), "replica")
    # And writes into expected.json what the page shows, here known from the replica.
    entry = load_expected(folder)
    entry["articles"]["article-1"]["fields"] = true_fields(article, origin)
    entry["listings"]["listing-1"].update(
        article_links=len(on_page), includes=on_page[:3],
        next_page=origin + article.section.page_path(2))
    write_expected(folder, entry)

    check_article(folder, "article-1", spider.profile)
    check_listing(folder, "listing-1", spider)
    page = load_page(folder, "article-1")
    record = extract_with_profile(page.body, page.url, spider.profile, page.content_type)
    assert record["body"] == "\n\n".join(article.paragraphs)
    assert read_listing(spider, load_page(folder, "listing-1"))[0] == on_page


def test_addsite_prefills_what_a_maintainer_wrote_by_hand_for_a_real_page(tmp_path):
    folder = SITES / "dantri"
    hand = load_expected(folder)["articles"]["article-1"]
    result = addsite(tmp_path, "dantri_again", hand["url"],
                     "--from-file", str(folder / "article-1.html.gz"))
    assert result.returncode == 0, result.stderr
    scaffold = load_expected(tmp_path / "sites" / "dantri_again")["articles"]["article-1"]
    # The section is a site selector's to find (the maintainer's TODO); the rest the page says.
    assert {name: value for name, value in scaffold["fields"].items() if name != "section"} == {
        name: value for name, value in hand["fields"].items() if name != "section"}
    page = load_page(tmp_path / "sites" / "dantri_again", "article-1")
    record = extract_with_profile(page.body, page.url, None)
    text = "\n\n".join(part for part in (record["lead"], record["body"]) if part)
    assert all(snippet in text for snippet in hand["with"]), hand["with"]
    assert not any(snippet in record["body"] for snippet in hand["without"]), hand["without"]


def test_addsite_refuses_a_bad_site_id_and_a_missing_page(tmp_path, saved_page):
    _, url = saved_page
    assert addsite(tmp_path, "Bad-Id", url).returncode != 0
    missing = addsite(tmp_path, "newoutlet", url, "--from-file", str(tmp_path / "nope.html"))
    assert missing.returncode == 2
    assert "nope.html" in missing.stderr
    assert not (tmp_path / "spiders" / "newoutlet.py").exists()


@pytest.fixture(scope="module")
def encoded_warc(tmp_path_factory) -> tuple[Path, dict[str, Archived]]:
    """A WARC file holding one replica article per Content-Encoding, and bombs."""
    warc_dir = tmp_path_factory.mktemp("encoded")
    archived = archive_articles(warc_dir, "https://baonamdinh.vn", bomb_size=4_000_000)
    (warc,) = warc_dir.glob("*.warc.gz")
    return warc, {entry.url: entry for entry in archived}


@pytest.mark.parametrize("encoding", list(ENCODERS))
def test_a_page_from_a_warc_reads_back_in_every_content_encoding(encoded_warc, encoding):
    warc, archived = encoded_warc
    entry = next(entry for entry in archived.values()
                 if entry.encoding == encoding and entry.article is not None)
    page = page_from_warc("article-1", entry.url, warc, DOWNLOAD_MAXSIZE)
    record = extract_with_profile(page.body, page.url, None, page.content_type)
    assert record["title"] == entry.article.title
    # The saved page is decoded, so it keeps no Content-Encoding header.
    assert "content-encoding" not in {name.lower() for name in page.headers}


def test_addsite_from_warc_reads_brotli_and_refuses_a_bomb(tmp_path, encoded_warc):
    warc, archived = encoded_warc
    brotli_page = next(entry for entry in archived.values()
                       if entry.encoding == "br" and entry.article is not None)
    result = addsite(tmp_path, "newoutlet", brotli_page.url, "--from-warc", str(warc))
    assert result.returncode == 0, result.stderr
    saved = load_page(tmp_path / "sites" / "newoutlet", "article-1")
    assert brotli_page.article.title in saved.body.decode("utf-8")

    bomb = next(entry for entry in archived.values() if entry.article is None)
    refused = addsite(tmp_path, "bombed", bomb.url, "--from-warc", str(warc),
                      "-s", "DOWNLOAD_MAXSIZE=1048576")
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert bomb.url in refused.stderr and str(warc) in refused.stderr, refused.stderr
    assert "DOWNLOAD_MAXSIZE (1048576 bytes)" in refused.stderr, refused.stderr
    assert not (tmp_path / "spiders" / "bombed.py").exists()

    # A refresh from a later WARC where the first page has become a bomb: that page is named
    # and kept as saved, the other one is still refreshed.
    zstd_page = next(entry for entry in archived.values()
                     if entry.encoding == "zstd" and entry.article is not None)
    assert addsite(tmp_path, "newoutlet", zstd_page.url, "--from-warc", str(warc)).returncode == 0
    later = tmp_path / "later"
    with WarcWriter(later) as writer:
        write_response(writer, brotli_page.url, bomb_body("br", 4_000_000), "br")
        page = page_from_warc("x", zstd_page.url, warc, DOWNLOAD_MAXSIZE)
        write_response(writer, zstd_page.url, page.body, None)
    (later_warc,) = later.glob("*.warc.gz")
    refresh = addsite(tmp_path, "newoutlet", "--refresh", "--from-warc", str(later_warc),
                      "-s", "DOWNLOAD_MAXSIZE=1048576")
    assert refresh.returncode == 2
    assert refresh.stderr.count("\n") == 1, refresh.stderr
    assert "article-1 not refreshed" in refresh.stderr and brotli_page.url in refresh.stderr
    assert f"article-2: {zstd_page.url} unchanged" in refresh.stdout, refresh.stdout
    assert load_page(tmp_path / "sites" / "newoutlet", "article-1").body == saved.body


def test_addsite_refuses_a_gzip_bomb_from_the_web(tmp_path):
    # The replica's gzip-bomb: 64 MB of HTML in ~64 KB, sent with Content-Encoding: gzip.
    article = build_site(articles=12).articles[0]
    with ReplicaProcess(articles=12, faults=[f"gzip-bomb@^{article.path}$"]) as portal:
        url = portal.url(article.path)
        refused = addsite(tmp_path, "bombed", url, "-s", "DOWNLOAD_MAXSIZE=1048576")
        fetched = addsite(tmp_path, "replica", portal.url(build_site(articles=12).articles[1]
                                                          .path))
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert url in refused.stderr and "DOWNLOAD_MAXSIZE (1048576 bytes)" in refused.stderr
    assert not (tmp_path / "spiders" / "bombed.py").exists()
    # An ordinary page (gzip too) still comes through.
    assert fetched.returncode == 0, fetched.stderr
