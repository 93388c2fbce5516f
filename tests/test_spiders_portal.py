"""End to end: ``scrapy crawl portal`` on replica layouts no profile knows (issue 15).

Each layout of ``tests/replica/layouts/`` is served on loopback and crawled twice with only its
home URL. The first crawl must store the layout's articles as its ground truth has them (issue
15's figures: ≥ 98% stored, lead+body 4-shingle F1 ≥ 0.97, dates to the minute with offset,
authors ≥ 95%, no noise line, no listing, tag or search page stored) without a request to
another origin, and say in its summary what it classified, which route found each article and
where it stopped at a trap; the second crawl of the unchanged portal is incremental.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from crawler.commands.addsite import load_site_module, site_spider
from crawler.parsing.document import decode_html
from crawler.sitefixtures import page_names
from spiders.classify import classify_page, clean_url, url_shape
from spiders.discovery import next_pages, page_links, trap_reason
from storage.articles import ArticleStore
from tests.conftest import LOOPBACK_SETTINGS, PROJECT_ROOT, scrapy
from tests.replica.content import build_site
from tests.replica.layouts import make_layout
from tests.replica.layouts.scoring import score
from tests.replica.process import ReplicaProcess
from tests.test_sites import check_article, check_listing

LAYOUTS = ("legacy-asp", "modern-cms", "wordpress")
# Enough for every route and trap of a layout (the bench crawls the full 240).
ARTICLES = 160
# The wordpress crawl names its site; the others are the host's.
SITE_IDS = {"wordpress": "namha-wp"}
# Trap stops each layout must report (see the layout modules).
TRAPS = {"legacy-asp": {"calendar"}, "modern-cms": {"facets", "paging"},
         "wordpress": {"calendar"}}


def portal_command(url: str, archive: Path, *arguments: str, **settings: str) -> list[str]:
    """``scrapy crawl portal -a url=URL`` into ``archive`` with loopback politeness."""
    # The replica stands for a Vietnamese portal but is served on 127.0.0.1, where no host
    # name says so: the archivist names the zone, as for any portal crawled by address.
    command = [sys.executable, "-m", "scrapy", "crawl", "portal", "-a", f"url={url}",
               "-a", "timezone=Asia/Ho_Chi_Minh", "-s", f"ARCHIVE_DIR={archive}"]
    for name, value in {**LOOPBACK_SETTINGS, **settings}.items():
        command += ["-s", f"{name}={value}"]
    for argument in arguments:
        command += ["-a", argument]
    return command


@dataclass
class LayoutCrawls:
    """Two crawls of one layout: what the first stored, and what each asked the portal."""

    layout_name: str
    origin: str
    archive: Path
    first_rc: int
    first_log: str
    first_requests: dict
    second_rc: int
    second_log: str
    second_requests: dict
    summary_first: dict
    summary_second: dict

    @property
    def records(self) -> list[dict]:
        with ArticleStore(self.archive / "articles.sqlite3") as store:
            return list(store.iter_articles())


@pytest.fixture(scope="module")
def site():
    """The content every layout serves."""
    return build_site(articles=ARTICLES)


@pytest.fixture(scope="module", params=LAYOUTS)
def crawls(request, tmp_path_factory) -> Iterator[LayoutCrawls]:
    """Serve one layout; crawl it from its home URL, then crawl it again unchanged."""
    name = request.param
    archive = tmp_path_factory.mktemp(f"portal-{name}") / "archive"
    arguments = [f"site_id={SITE_IDS[name]}"] if name in SITE_IDS else []
    with ReplicaProcess(articles=ARTICLES, layout=name) as portal:
        command = portal_command(portal.origin + "/", archive, *arguments)
        first = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True,
                               timeout=300)
        first_requests = portal.stats()
        summary_first = json.loads((archive / "last-crawl.json").read_text())
        portal.reset_stats()
        second = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True,
                                timeout=300)
        second_requests = portal.stats()
        summary_second = json.loads((archive / "last-crawl.json").read_text())
        # The portal keeps serving for the tests of this layout (the draft profile crawls it).
        yield LayoutCrawls(name, portal.origin, archive, first.returncode, first.stderr,
                            first_requests, second.returncode, second.stderr, second_requests,
                            summary_first, summary_second)


def test_first_crawl_stores_the_layouts_articles_as_published(crawls, site):
    assert crawls.first_rc == 0, crawls.first_log[-3000:]
    truth = make_layout(crawls.layout_name, site).ground_truth()
    result = score(crawls.records, truth)
    assert result.stored_share >= 0.98, (result.line(), result.misses.get("not stored", [])[:5])
    assert result.f1_text >= 0.97, result.line()
    assert result.dates_share == 1.0, (result.line(), result.misses.get("date", [])[:5])
    assert result.authors_share >= 0.95, (result.line(), result.misses.get("authors", [])[:5])
    assert result.noise_lines == [], result.noise_lines[:5]
    assert result.not_articles == [], "not articles, stored as articles"
    assert {record["site"] for record in crawls.records} == {
        SITE_IDS.get(crawls.layout_name, "127.0.0.1")}
    assert crawls.summary_first["errors_logged"] == 0, crawls.first_log[-3000:]


def test_no_request_leaves_the_portals_origin(crawls):
    for requests in (crawls.first_requests, crawls.second_requests):
        assert set(requests["origins"]) == {crawls.origin}


def test_no_page_a_layout_names_as_not_an_article_is_stored(crawls, site):
    layout = make_layout(crawls.layout_name, site)
    stored = {record["url"].removeprefix(crawls.origin) for record in crawls.records}
    assert not stored & set(layout.not_article_paths())


def test_summary_says_what_was_classified_which_route_found_what_and_where_traps_stopped(
        crawls):
    summary = crawls.summary_first
    stored = summary["articles_stored"]
    assert summary["pages_classified"]["article"] == stored
    assert summary["pages_classified"]["listing"] > 0
    assert sum(summary["articles_by_route"].values()) == stored
    failures = [json.loads(line) for line in
                (crawls.archive / "failures.jsonl").read_text(encoding="utf-8").splitlines()]
    # The failure report is the second crawl's: traps are stopped (and reported) every crawl.
    traps = Counter(f["reason"].removeprefix("trap_") for f in failures
                    if f["reason"].startswith("trap_"))
    assert TRAPS[crawls.layout_name] <= set(summary["trap_stops"])
    assert set(traps) <= set(summary["trap_stops"])
    assert "Crawl summary: portal (finished)" in crawls.first_log
    assert "pages classified" in crawls.first_log and "trap stops" in crawls.first_log


def test_second_crawl_of_an_unchanged_portal_is_incremental(crawls):
    assert crawls.second_rc == 0, crawls.second_log[-3000:]
    first, second = crawls.first_requests["total"], crawls.second_requests["total"]
    assert second <= 0.05 * first, sorted(crawls.second_requests["requests"])
    assert crawls.summary_second["articles_stored"] == 0
    assert all(record["version"] == 1 for record in crawls.records)


def test_learned_state_is_kept_for_the_next_crawl_and_the_draft_profile(crawls):
    site_id = SITE_IDS.get(crawls.layout_name, "127.0.0.1")
    state = json.loads((crawls.archive / "portal" / f"{site_id}.json").read_text())
    assert state["article_shapes"] and state["listings"]
    assert state["extraction"] in ("generic", "profile")
    assert state["selectors"]["body"]


def test_draft_profile_passes_the_site_test_and_crawls_the_layout(crawls, site, tmp_path):
    site_id = "draft_" + crawls.layout_name.replace("-", "_")
    spiders_dir, fixtures = tmp_path / "draftspiders", tmp_path / "sites"
    spiders_dir.mkdir()
    (spiders_dir / "__init__.py").write_text("")
    result = scrapy("addsite", site_id, "--from-crawl", str(crawls.archive),
                    "-s", f"ADDSITE_SPIDERS_DIR={spiders_dir}",
                    "-s", f"ADDSITE_FIXTURES_DIR={fixtures}")
    assert result.returncode == 0, result.stderr
    module = load_site_module(spiders_dir / f"{site_id}.py")
    spider = site_spider(module, site_id)
    folder = fixtures / site_id
    for name in page_names(folder, "article"):
        check_article(folder, name, spider.profile)
    for name in page_names(folder, "listing"):
        check_listing(folder, name, spider)
    archive = tmp_path / "archive"
    command = [sys.executable, "-m", "scrapy", "crawl", site_id, "-a",
               f"base_url={crawls.origin}/", "-s", f"ARCHIVE_DIR={archive}",
               "-s", "SPIDER_MODULES=spiders,draftspiders"]
    for name, value in LOOPBACK_SETTINGS.items():
        command += ["-s", f"{name}={value}"]
    run = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{PROJECT_ROOT}"})
    assert run.returncode == 0, run.stderr[-3000:]
    with ArticleStore(archive / "articles.sqlite3") as store:
        records = list(store.iter_articles())
    result = score(records, make_layout(crawls.layout_name, site).ground_truth())
    assert result.stored_share >= 0.98, result.line()
    assert result.f1_text >= 0.97 and result.dates_share == 1.0, result.line()
    assert result.authors_share >= 0.95 and not result.noise_lines, result.line()
    assert not result.not_articles, result.not_articles[:5]


# --- pieces, on the layouts' pages, offline -----------------------------------------------------


@pytest.mark.parametrize("name", LAYOUTS)
def test_pages_are_classified_by_their_own_signals(site, name):
    layout = make_layout(name, site)
    origin = "http://127.0.0.1:9"
    for item in layout.ground_truth()[:20]:
        page = layout.render(origin, item.path)
        tree = LexborHTMLParser(decode_html(page.body, page.content_type))
        assert classify_page(tree).kind == "article", item.path
    for path in layout.not_article_paths():
        page = layout.render(origin, path)
        tree = LexborHTMLParser(decode_html(page.body, page.content_type))
        assert classify_page(tree).kind != "article", path


def test_session_ids_and_switches_leave_urls():
    assert clean_url("http://x.vn/newsdetail.asp?NewsID=12&CatID=3&PHPSESSID=ab12#top") == (
        "http://x.vn/newsdetail.asp?NewsID=12&CatID=3", True)
    assert clean_url("http://x.vn/a;jsessionid=F00/b?replytocom=4") == ("http://x.vn/a/b", True)
    assert clean_url("http://x.vn/a?page=2") == ("http://x.vn/a?page=2", False)


def test_url_shapes_group_articles_and_tell_listings_apart():
    assert url_shape("http://x.vn/kinh-te/nong-dan-lam-giau-2536418.html") == (
        url_shape("http://x.vn/kinh-te/xuat-khau-tang-2536999.html"))
    assert url_shape("http://x.vn/2020/02/12/a-b/") == "/D4/D2/D2/S/"
    assert url_shape("http://x.vn/newsdetail.asp?NewsID=12&CatID=3") == (
        "/newsdetail.asp?CatID=D&NewsID=D")
    assert url_shape("http://x.vn/news.asp?CatID=3") != url_shape(
        "http://x.vn/newsdetail.asp?NewsID=12&CatID=3")


@pytest.mark.parametrize(("url", "reason"), [
    ("http://x.vn/news.asp?date=2020-02-12", "calendar"),
    ("http://x.vn/calendar.asp?month=2020-02", "calendar"),
    ("http://x.vn/2020/02/", "calendar"),
    ("http://x.vn/tim-kiem?q=a&tag=b", "facets"),
    ("http://x.vn/?s=nong+thon", "search"),
    ("http://x.vn/2020/02/12/bai-viet/", None),
    ("http://x.vn/news.asp?CatID=3&Page=2", None),
])
def test_traps_are_told_from_pages(url, reason):
    assert trap_reason(url) == reason


def test_next_pages_of_links_numbers_and_load_more_buttons():
    html = ('<a href="/news.asp?CatID=3&amp;Page=2">2</a><a href="/x">Tiếp »</a>'
            '<button class="btn-loadmore" data-url="/ajax/more?cat=a&amp;page=2">Xem thêm</button>')
    tree = LexborHTMLParser(html)
    url = "http://x.vn/news.asp?CatID=3"
    assert next_pages(tree, url, page_links(tree, url)) == [
        "http://x.vn/x", "http://x.vn/news.asp?CatID=3&Page=2", "http://x.vn/ajax/more?cat=a&page=2"]


# --- arguments and resume -----------------------------------------------------------------------


def test_a_crawl_without_a_url_or_with_an_unknown_site_says_why(tmp_path):
    for arguments, message in (
        ([], "give -a url=<the portal's home page> or -a site=<a catalogue id>"),
        (["-a", "site=no-such-paper"], "-a site='no-such-paper': not in catalogue.json"),
        (["-a", "url=example-portal.vn"], "expected an http(s) URL with a host"),
    ):
        result = scrapy("crawl", "portal", *arguments, "-s", f"ARCHIVE_DIR={tmp_path}")
        assert result.returncode != 0
        assert message in result.stderr, result.stderr[-2000:]


def _stored(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_killed_portal_crawl_resumes_with_the_same_command(tmp_path):
    articles = 100
    archive = tmp_path / "archive"
    with ReplicaProcess(articles=articles, layout="legacy-asp") as portal:
        command = portal_command(portal.origin + "/", archive, CONCURRENT_REQUESTS_PER_DOMAIN="2",
                                 DOWNLOAD_DELAY="0.01")
        with (tmp_path / "killed.log").open("w") as log:
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=log)
            deadline = time.monotonic() + 120
            while _stored(archive / "articles.sqlite3") < articles * 0.4:
                assert process.poll() is None, "the crawl ended before the kill"
                assert time.monotonic() < deadline
                time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True,
                                timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    truth = make_layout("legacy-asp", build_site(articles=articles)).ground_truth()
    with ArticleStore(archive / "articles.sqlite3") as store:
        records = list(store.iter_articles())
    assert len(records) == len({r["url"] for r in records}) == articles
    assert score(records, truth).stored_share == 1.0
    assert all(record["version"] == 1 for record in records)


def test_a_portal_times_zone_is_never_guessed():
    from spiders.portal import site_timezone

    assert site_timezone("Europe/Berlin", False, "example.org") == "Europe/Berlin"
    assert site_timezone(None, True, "127.0.0.1") == "Asia/Ho_Chi_Minh"  # a catalogued paper
    assert site_timezone(None, False, "baolaocai.vn") == "Asia/Ho_Chi_Minh"
    assert site_timezone(None, False, "example.org") is None
    with pytest.raises(ValueError, match="not a time zone name"):
        site_timezone("Mars/Olympus", False, "example.org")
