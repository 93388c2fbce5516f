"""Resume after kill -9: the same command carries on, and the archive ends whole.

A crawl of the replica is killed with SIGKILL three times (during discovery, mid-way, near the
end) and started again each time with the same command; the fourth run finishes. The store must
then hold exactly the replica's articles, each once and at version 1, as an uninterrupted crawl
does, and every WARC file closed and valid (the WARC writer recovers what the kills left
``.open`` when the next crawl starts).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import LOOPBACK_SETTINGS, PROJECT_ROOT
from tests.replica.content import build_site
from tests.replica.process import ReplicaProcess

ARTICLES = 100
# Slow enough (one host slot, a small delay) that a kill lands mid-crawl, fast enough for CI.
SETTINGS = {**LOOPBACK_SETTINGS, "CONCURRENT_REQUESTS_PER_DOMAIN": "2", "DOWNLOAD_DELAY": "0.01"}


def crawl_command(origin: str, archive: Path) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh", "-a", f"base_url={origin}/",
               "-s", f"ARCHIVE_DIR={archive}"]
    for name, value in SETTINGS.items():
        command += ["-s", f"{name}={value}"]
    return command


def stored_count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


def kill_when(command: list[str], archive: Path, ready) -> int:
    """Start the crawl, SIGKILL it once ``ready()`` holds; return the articles stored by then."""
    log = (archive.parent / f"{archive.name}-{time.monotonic_ns()}.log").open("w")
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=log)
    deadline = time.monotonic() + 120
    try:
        while not ready():
            assert process.poll() is None, "the crawl ended before the kill moment"
            assert time.monotonic() < deadline, "the kill moment never came"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    return stored_count(archive / "articles.sqlite3")


@pytest.fixture(scope="module")
def killed_three_times(tmp_path_factory):
    """Crawl, kill at three moments, then let the same command finish."""
    archive = tmp_path_factory.mktemp("resume") / "archive"
    db = archive / "articles.sqlite3"
    with ReplicaProcess(articles=ARTICLES) as portal:
        command = crawl_command(portal.origin, archive)
        counts = [
            # During discovery: the sitemap index is archived, no article stored yet.
            kill_when(command, archive, lambda: any((archive / "warc").glob("*.warc.gz*"))),
            kill_when(command, archive, lambda: stored_count(db) >= ARTICLES * 0.4),
            kill_when(command, archive, lambda: stored_count(db) >= ARTICLES * 0.85),
        ]
        portal.reset_stats()
        final = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True,
                               timeout=300)
        fetched_by_last_run = portal.stats()["requests"]
    assert final.returncode == 0, final.stderr[-3000:]
    return archive, counts, final.stderr, fetched_by_last_run


def test_the_kills_landed_at_three_moments(killed_three_times):
    _, counts, _, _ = killed_three_times
    assert counts[0] < counts[1] < counts[2] < ARTICLES, counts


def test_resumed_crawl_ends_with_every_article_exactly_once(killed_three_times):
    archive, _, log, _ = killed_three_times
    site = build_site(articles=ARTICLES)
    with sqlite3.connect(archive / "articles.sqlite3") as db:
        paths = [row[0].split("/", 3)[3] for row in db.execute("SELECT url FROM articles")]
        versions = db.execute("SELECT COUNT(*), MAX(version) FROM article_versions").fetchone()
    assert sorted("/" + path for path in paths) == sorted(a.path for a in site.articles)
    assert versions == (ARTICLES, 1)  # none stored twice, none "changed" by a refetch
    summary = json.loads((archive / "last-crawl.json").read_text())
    assert summary["finish_reason"] == "finished"
    assert "did not stop cleanly" in log


def test_the_last_run_fetched_only_what_the_killed_runs_had_not_stored(killed_three_times):
    archive, counts, _, requests = killed_three_times
    article_pages = [path for path in requests if path.count("/") == 5 and "/channel/" in path]
    # A kill can land between fetching a page and storing it; such a page is fetched again.
    assert len(article_pages) <= ARTICLES - counts[2] + 16


def test_every_warc_file_is_closed_and_valid(killed_three_times):
    archive, _, _, _ = killed_three_times
    files = sorted((archive / "warc").glob("*.warc.gz*"))
    assert files and all(path.name.endswith(".warc.gz") for path in files), files
    for path in files:
        with path.open("rb") as stream:
            records = list(ArchiveIterator(stream, check_digests=True))
        assert records, path


def test_a_crawl_stopped_gracefully_resumes_its_queue(tmp_path):
    archive = tmp_path / "archive"
    db = archive / "articles.sqlite3"
    with ReplicaProcess(articles=ARTICLES) as portal:
        command = crawl_command(portal.origin, archive)
        log = (tmp_path / "first.log").open("w")
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=log)
        deadline = time.monotonic() + 120
        while stored_count(db) < ARTICLES * 0.3:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)  # what Ctrl-C or a scheduler's stop sends
        assert process.wait(60) == 0
        log.close()
        assert json.loads((archive / "jobs/baonamdinh/crawl-state.json").read_text())[
            "state"] == "paused"
        second = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True,
                                timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Resuming the crawl paused" in second.stderr
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*), MAX(version) FROM articles").fetchone() == (
            ARTICLES, 1)


def test_a_full_recrawl_killed_midway_does_not_start_over(tmp_path):
    archive = tmp_path / "archive"
    db = archive / "articles.sqlite3"
    with ReplicaProcess(articles=ARTICLES) as portal:
        command = crawl_command(portal.origin, archive)
        assert subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True).returncode == 0
        full = [*command, "-s", "INCREMENTAL=False"]
        started = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())

        def refetched() -> int:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
                return connection.execute(
                    "SELECT COUNT(*) FROM articles WHERE fetched >= ?", (started,)
                ).fetchone()[0]

        kill_when(full, archive, lambda: refetched() >= ARTICLES * 0.5)
        done = refetched()
        portal.reset_stats()
        assert subprocess.run(full, cwd=PROJECT_ROOT, capture_output=True).returncode == 0
        requests = portal.stats()["requests"]
    article_pages = [path for path in requests if path.count("/") == 5 and "/channel/" in path]
    assert len(article_pages) <= ARTICLES - done + 16
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*), MAX(version) FROM articles").fetchone() == (
            ARTICLES, 1)
