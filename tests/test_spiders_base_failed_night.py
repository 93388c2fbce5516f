"""A night with the portal down must not poison the nights after it.

The chain an archivist's schedule meets: a crawl of the replica is killed with SIGKILL mid-way
(its monthly sitemaps read, part of the articles stored), the next night the portal is down (the
replica stopped, nothing listening on its port), then the portal is back on the same port and two
normal crawls run. The down night must end with a non-zero exit code and a report of its own that
says it failed and lists what failed; it must not count as a complete crawl, so the crawls after
it read the sitemaps again and the archive ends with every article of the replica.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import PROJECT_ROOT
from tests.replica.content import build_site
from tests.replica.process import ReplicaProcess
from tests.test_spiders_base_resume import crawl_command, kill_when, stored_count

ARTICLES = 200
# First in, first out (Scrapy's breadth-first order): the killed crawl stores the newest months
# first, as the live nightly crawl did, so the older articles are left to the monthly sitemaps;
# feeds and listings (newest first, paging stopped at known articles) never reach them.
FIFO = ["-s", "SCHEDULER_DISK_QUEUE=scrapy.squeues.PickleFifoDiskQueue"]


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)


def reports(archive: Path) -> list[Path]:
    """The archive's per-crawl report folders, oldest first."""
    folder = archive / "reports"
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """Killed crawl, down night, two normal crawls: one archive, one port."""
    archive = tmp_path_factory.mktemp("failed-night") / "archive"
    db = archive / "articles.sqlite3"
    portal = ReplicaProcess(articles=ARTICLES)
    origin = portal.start()
    try:
        command = crawl_command(origin, archive) + FIFO
        killed_at = kill_when(command, archive, lambda: stored_count(db) >= ARTICLES * 0.4)
        portal.stop()  # the portal is down: nothing listens on its port
        down = run(command)
        down_reports = reports(archive)
        portal = ReplicaProcess(articles=ARTICLES, port=urlsplit(origin).port)
        assert portal.start() == origin
        normal = [run(command), run(command)]
    finally:
        portal.stop()
    return archive, killed_at, down, down_reports, normal, origin


def test_the_down_night_fails_with_a_nonzero_exit_code(chain):
    _, killed_at, down, _, _, _ = chain
    assert 0 < killed_at < ARTICLES
    assert down.returncode == 4, down.stderr[-3000:]
    assert "nothing usable" in down.stderr


def test_the_down_night_keeps_its_own_report(chain):
    archive, _, down, down_reports, _, origin = chain
    # The killed crawl's report (no summary: it never ended) and the down night's.
    assert len(down_reports) == 2
    killed, failed = down_reports
    assert not (killed / "summary.json").exists()
    summary = json.loads((failed / "summary.json").read_text())
    assert summary["status"] == "failed"
    assert summary["exit_code"] == 4
    assert summary["pages_fetched"] == 0
    # Still there after the two crawls that followed, which wrote reports of their own.
    lines = [json.loads(line) for line in (failed / "failures.jsonl").open(encoding="utf-8")]
    failed_urls = {line["url"]: line["reason"] for line in lines}
    assert failed_urls[origin + "/sitemap.xml"] == "connection_refused"
    assert failed_urls[origin + "/rss/home.rss"] == "connection_refused"
    # Discovery failed; anything else is an image the killed crawl left owed (spiders/assets.py),
    # requested first thing by the next crawl: how many depends on when the kill landed.
    assert all(line["discovery"] or urlsplit(line["url"]).path.startswith("/uploads/")
               for line in lines)
    assert any(line["discovery"] for line in lines)
    assert all("no attempt counted" in line["detail"] for line in lines if not line["discovery"])
    assert len(reports(archive)) == 4


def test_the_crawls_after_it_store_every_article(chain):
    archive, _, _, _, normal, _ = chain
    assert [result.returncode for result in normal] == [0, 0], normal[-1].stderr[-3000:]
    site = build_site(articles=ARTICLES)
    with sqlite3.connect(archive / "articles.sqlite3") as db:
        paths = [urlsplit(row[0]).path for row in db.execute("SELECT url FROM articles")]
        versions = db.execute("SELECT COUNT(*), MAX(version) FROM article_versions").fetchone()
    assert sorted(paths) == sorted(article.path for article in site.articles)
    assert versions == (ARTICLES, 1)


def test_the_last_crawl_is_complete_and_its_report_is_the_latest(chain):
    archive, _, _, _, _, _ = chain
    latest = reports(archive)[-1]
    summary = json.loads((archive / "last-crawl.json").read_text())
    assert summary == json.loads((latest / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["exit_code"] == 0
    assert summary["report"] == str(latest)
    assert (archive / "failures.jsonl").read_bytes() == (latest / "failures.jsonl").read_bytes()
