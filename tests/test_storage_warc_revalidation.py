"""304 revalidations in the archive, as an archivist replays them: never a blank page.

An incremental crawl asks the portal whether a known article changed (`If-None-Match`); a `304 Not
Modified` answer holds no page. It is archived as a `revisit` record (WARC/1.1 server-not-modified
profile) that names the capture it confirms, and every replay path -- our CDXJ index in pywb, and
the WACZ that `scrapy package` writes, unpacked into pywb -- shows the article's text at the time of
the revalidation. Every article's `warc` pointer leads to the payload bytes in one step, with the
snippet of docs/researcher.md, after a recrawl that wrote revisits for everything.
"""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from warcio.archiveiterator import ArchiveIterator

from storage.articles import ArticleStore
from tests.conftest import PROJECT_ROOT, CrawlRun, run_crawl, scrapy
from tests.replica.process import ReplicaProcess
from tests.test_storage_warc_replay import PYWB_BIN, fetch, wayback

NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
ARTICLES = 30
REVALIDATED = 3


@pytest.fixture(scope="module")
def portal() -> Iterator[ReplicaProcess]:
    with ReplicaProcess(articles=ARTICLES) as replica:
        yield replica


def records(paths: list[Path]) -> list[tuple[str, dict[str, str], str, bytes]]:
    """Type, WARC headers, HTTP status and decoded payload of every record in ``paths``."""
    found = []
    for path in paths:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                status = record.http_headers.get_statuscode() if record.http_headers else ""
                found.append((record.rec_type, dict(record.rec_headers.headers), status,
                              record.content_stream().read()))
    return found


@pytest.fixture(scope="module")
def revalidated(portal, tmp_path_factory) -> tuple[list[Path], CrawlRun, dict[str, dict]]:
    """A crawl, then an incremental crawl that revalidates three articles (all answer 304).

    Yields the WARC files of the second crawl, its run, and the three articles as first stored.
    """
    archive = tmp_path_factory.mktemp("revalidation")
    first = run_crawl(portal.origin, archive)
    assert first.returncode == 0, first.log[-3000:]
    first_files = first.warc_files
    with sqlite3.connect(first.db) as db:
        urls = [row[0] for row in db.execute(
            "SELECT url FROM articles ORDER BY url LIMIT ?", (REVALIDATED,))]
        # The store last saw them long ago: the sitemap's lastmod is newer, so they are asked for.
        db.executemany(
            "UPDATE fetch_state SET lastmod = '2001-01-01T00:00:00+00:00', "
            "last_modified = NULL WHERE url = ?", [(url,) for url in urls],
        )
        db.execute("UPDATE fetch_state SET lastmod = NULL WHERE url LIKE '%/sitemaps/%'")
    with ArticleStore(first.db) as store:
        articles = {a["url"]: a for a in store.iter_articles() if a["url"] in urls}
    second = run_crawl(portal.origin, archive)
    assert second.returncode == 0, second.log[-3000:]
    assert second.summary["http_status"].get("304") == REVALIDATED
    return sorted(set(second.warc_files) - set(first_files)), second, articles


def test_a_304_is_archived_as_a_server_not_modified_revisit_of_the_capture_it_confirms(
    revalidated,
):
    new_files, second, articles = revalidated
    not_modified = [r for r in records(new_files) if r[2] == "304"]
    assert len(not_modified) == REVALIDATED
    for rec_type, headers, _, payload in not_modified:
        article = articles[headers["WARC-Target-URI"]]
        assert rec_type == "revisit" and payload == b""
        assert headers["WARC-Profile"] == NOT_MODIFIED_PROFILE
        assert headers["WARC-Refers-To"] == article["warc"]["record_id"]
        assert headers["WARC-Refers-To-Target-URI"] == article["warc"]["target_uri"]
        assert headers["WARC-Payload-Digest"] == article["warc"]["payload_digest"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", headers["WARC-Refers-To-Date"])


def test_scrapy_index_points_each_revalidation_at_the_confirmed_page(revalidated):
    _, second, articles = revalidated
    result = scrapy("index", "-s", f"ARCHIVE_DIR={second.archive}")
    assert result.returncode == 0, result.stderr
    lines = (second.archive / "index.cdxj").read_text().splitlines()
    for url, article in articles.items():
        entries = [json.loads(line.split(" ", 2)[2]) for line in lines
                   if json.loads(line.split(" ", 2)[2]).get("url") == url]
        assert len(entries) == 2, entries  # the first capture and the revalidation
        assert all(e["status"] == "200" for e in entries)
        # Both lead to the one record holding the page.
        assert {(e["filename"], int(e["offset"])) for e in entries} == {
            (article["warc"]["filename"], article["warc"]["offset"])
        }


@pytest.fixture(scope="module")
def wacz(revalidated, tmp_path_factory) -> Path:
    _, second, _ = revalidated
    output = tmp_path_factory.mktemp("wacz") / "news.wacz"
    result = scrapy("package", "--output", str(output), "-s", f"ARCHIVE_DIR={second.archive}")
    assert result.returncode == 0, result.stdout + result.stderr
    return output


def test_the_wacz_replays_every_articles_latest_capture_with_its_text(
    revalidated, wacz, portal, tmp_path
):
    new_files, second, articles = revalidated
    revalidated_at = {
        headers["WARC-Target-URI"]: headers["WARC-Date"]
        for _, headers, status, _ in records(new_files) if status == "304"
    }
    subprocess.run([str(PYWB_BIN / "wb-manager"), "init", "news"], cwd=tmp_path, check=True,
                   capture_output=True)
    add = subprocess.run([str(PYWB_BIN / "wb-manager"), "add", "--unpack-wacz", "news",
                          str(wacz)], cwd=tmp_path, capture_output=True, text=True)
    assert add.returncode == 0, add.stdout + add.stderr
    with ArticleStore(second.db) as store:
        stored = list(store.iter_articles())
    assert len(stored) == ARTICLES
    with wayback(tmp_path) as origin:
        # Every article's newest capture replays as the article.
        for article in stored:
            status, _, page = fetch(f"{origin}/news/29991231235959id_/{article['url']}")
            assert status == 200 and article["title"] in page.decode("utf-8"), article["url"]
        for url, article in articles.items():
            _, _, cdx = fetch(f"{origin}/news/cdx?" + urlencode({"url": url, "output": "json"}))
            captures = [json.loads(line) for line in cdx.splitlines()]
            latest = max(capture["timestamp"] for capture in captures)
            # The latest capture is the revalidation, not the first crawl's response.
            assert latest == re.sub(r"\D", "", revalidated_at[url])[:14]
            status, _, page = fetch(f"{origin}/news/{latest}id_/{url}")
            assert status == 200, (url, status)
            assert page == gzip.decompress(fetch(url, **{"Accept-Encoding": "gzip"})[2])
            assert article["title"] in page.decode("utf-8")
            status, _, rewritten = fetch(f"{origin}/news/{latest}mp_/{url}")
            assert status == 200 and article["title"] in rewritten.decode("utf-8")


def pointer_bytes(warc_dir: Path, pointer: dict) -> bytes:
    """The snippet of docs/researcher.md, "Going back to the archive", as a researcher runs it."""
    snippet = (PROJECT_ROOT / "docs" / "researcher.md").read_text()
    code = re.search(r"## Going back to the archive.*?```python\n(.*?)```", snippet, re.S)[1]
    scope = {"record": {"warc": pointer}}
    code = code.replace('"archive/warc/', f'"{warc_dir}/').replace("'archive/warc/",
                                                                     f"'{warc_dir}/")
    exec(compile(code, "docs/researcher.md", "exec"), scope)  # noqa: S102 - our own docs
    return scope["html"]


def test_every_article_pointer_leads_to_its_page_after_a_recrawl_of_revisits(portal, tmp_path):
    first = run_crawl(portal.origin, tmp_path)
    assert first.returncode == 0, first.log[-3000:]
    second = run_crawl(portal.origin, tmp_path, INCREMENTAL="False")
    assert second.returncode == 0, second.log[-3000:]
    with ArticleStore(second.db) as store:
        articles = list(store.iter_articles())
    assert len(articles) == ARTICLES
    assert all(a["warc"]["record_type"] == "revisit" for a in articles)
    for article in articles:
        html = pointer_bytes(tmp_path / "warc", article["warc"])
        live = gzip.decompress(fetch(article["url"], **{"Accept-Encoding": "gzip"})[2])
        assert html == live, article["url"]
