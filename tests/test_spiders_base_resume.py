"""Resume after kill -9: the same command carries on, and the archive ends whole.

A crawl of the replica is killed with SIGKILL three times (during discovery, mid-way, near the
end) and started again each time with the same command; the fourth run finishes. The store must
then hold exactly the replica's articles, each once and at version 1, as an uninterrupted crawl
does, and every WARC file closed and valid (the WARC writer recovers what the kills left
``.open`` when the next crawl starts). Every article a killed run stored must still lead, through
its ``warc`` pointer, to the response it was parsed from: recovery quarantines only what the kill
cut, never a record an article points at, and keeps the others where they were.
"""

from __future__ import annotations

import io
import json
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from tests.conftest import LOOPBACK_SETTINGS, PROJECT_ROOT
from tests.replica.content import build_site
from tests.replica.process import ReplicaProcess

ARTICLES = 100
# Slow enough (one host slot, a small delay) that a kill lands mid-crawl, fast enough for CI.
SETTINGS = {**LOOPBACK_SETTINGS, "CONCURRENT_REQUESTS_PER_DOMAIN": "2", "DOWNLOAD_DELAY": "0.01"}
SITE = build_site(articles=ARTICLES)
# Listing pages (/channel/N/page/M/) have as many slashes as articles: tell them apart by name.
ARTICLE_PATHS = frozenset(article.path for article in SITE.articles)


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


def stored_pointers(db: Path) -> dict[str, dict]:
    """The ``warc`` pointer of every stored article, by URL."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
        return {url: json.loads(warc) for url, warc in connection.execute(
            "SELECT url, warc FROM articles")}


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


@dataclass
class Resumed:
    """What three killed runs and the run that finished left, and what the last one fetched."""

    archive: Path
    counts: list[int]  # articles stored when each kill landed
    log: str  # the last run's
    requests: dict[str, int]  # paths the last run fetched
    pointers_at_kills: list[dict[str, dict]]  # stored articles' pointers, read after each kill


@pytest.fixture(scope="module")
def killed_three_times(tmp_path_factory) -> Resumed:
    """Crawl, kill at three moments, then let the same command finish."""
    archive = tmp_path_factory.mktemp("resume") / "archive"
    db = archive / "articles.sqlite3"
    counts: list[int] = []
    pointers: list[dict[str, dict]] = []
    with ReplicaProcess(articles=ARTICLES) as portal:
        command = crawl_command(portal.origin, archive)
        for ready in (
            # During discovery: the sitemap index is archived, no article stored yet.
            lambda: any((archive / "warc").glob("*.warc.gz*")),
            lambda: stored_count(db) >= ARTICLES * 0.4,
            lambda: stored_count(db) >= ARTICLES * 0.85,
        ):
            counts.append(kill_when(command, archive, ready))
            # Read before the next run recovers the killed run's ``.open`` file.
            pointers.append(stored_pointers(db) if counts[-1] else {})
        portal.reset_stats()
        final = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True,
                               timeout=300)
        fetched_by_last_run = portal.stats()["requests"]
    assert final.returncode == 0, final.stderr[-3000:]
    return Resumed(archive, counts, final.stderr, fetched_by_last_run, pointers)


def test_the_kills_landed_at_three_moments(killed_three_times):
    counts = killed_three_times.counts
    assert counts[0] < counts[1] < counts[2] < ARTICLES, counts


def test_resumed_crawl_ends_with_every_article_exactly_once(killed_three_times):
    archive, log = killed_three_times.archive, killed_three_times.log
    with sqlite3.connect(archive / "articles.sqlite3") as db:
        paths = [row[0].split("/", 3)[3] for row in db.execute("SELECT url FROM articles")]
        versions = db.execute("SELECT COUNT(*), MAX(version) FROM article_versions").fetchone()
    assert sorted("/" + path for path in paths) == sorted(ARTICLE_PATHS)
    assert versions == (ARTICLES, 1)  # none stored twice, none "changed" by a refetch
    summary = json.loads((archive / "last-crawl.json").read_text())
    assert summary["finish_reason"] == "finished"
    assert "did not stop cleanly" in log


def test_the_last_run_fetched_only_what_the_killed_runs_had_not_stored(killed_three_times):
    requests = killed_three_times.requests
    stored = {"/" + url.split("/", 3)[3] for url in killed_three_times.pointers_at_kills[-1]}
    fetched = {path: count for path, count in requests.items() if path in ARTICLE_PATHS}
    # A page fetched but not yet stored when the kill landed is not stored: it is fetched again.
    assert set(fetched) == ARTICLE_PATHS - stored, sorted(fetched)
    assert set(fetched.values()) == {1}, fetched


def read_pointed(warc_dir: Path, where: dict) -> tuple[str, dict[str, str], bytes]:
    """Type, WARC headers and decoded payload of the record at ``filename``/``offset``/``length``.

    Exactly ``length`` bytes are read from ``offset``: the pointer must delimit one whole record.
    """
    with (warc_dir / where["filename"]).open("rb") as stream:
        stream.seek(where["offset"])
        member = stream.read(where["length"])
    try:
        record = next(iter(ArchiveIterator(io.BytesIO(member), check_digests=True)))
        payload = record.content_stream().read()
    except (StopIteration, ArchiveLoadFailed) as error:
        pytest.fail(f"no readable WARC record at {where}: {type(error).__name__}")
    assert record.digest_checker.passed is not False, record.digest_checker.problems
    return record.rec_type, dict(record.rec_headers.headers), payload


def test_every_article_a_killed_run_stored_still_opens_its_response(killed_three_times):
    warc_dir = killed_three_times.archive / "warc"
    final = stored_pointers(killed_three_times.archive / "articles.sqlite3")
    checked: list[str] = []
    for pointers in [*killed_three_times.pointers_at_kills, final]:
        for url, pointer in pointers.items():
            assert pointer["target_uri"] == url
            rec_type, headers, _ = read_pointed(warc_dir, pointer)
            assert (rec_type, headers["WARC-Record-ID"], headers["WARC-Target-URI"]) == (
                pointer["record_type"], pointer["record_id"], url), (url, pointer)
            assert headers["WARC-Payload-Digest"] == pointer["payload_digest"]
            where = pointer
            if rec_type == "revisit":  # the bytes are in the original response
                where = pointer["original"]
                assert where["record_id"] == headers["WARC-Refers-To"]
                rec_type, headers, _ = read_pointed(warc_dir, where)
                assert headers["WARC-Record-ID"] == where["record_id"], (url, pointer)
            assert rec_type == "response", (url, pointer)
            assert headers["WARC-Target-URI"] == where["target_uri"], (url, pointer)
            assert headers["WARC-Payload-Digest"] == pointer["payload_digest"], (url, pointer)
            checked.append(url)
    # The two later kills each left stored articles, so recovery had pointers to honour.
    assert all(killed_three_times.pointers_at_kills[1:]), killed_three_times.counts
    assert len(final) == ARTICLES and len(checked) > ARTICLES


def test_every_warc_file_is_closed_and_valid(killed_three_times):
    archive = killed_three_times.archive
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

        def refetched() -> set[str]:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
                return {"/" + url.split("/", 3)[3] for (url,) in connection.execute(
                    "SELECT url FROM articles WHERE fetched >= ?", (started,))}

        kill_when(full, archive, lambda: len(refetched()) >= ARTICLES * 0.5)
        done = refetched()
        portal.reset_stats()
        assert subprocess.run(full, cwd=PROJECT_ROOT, capture_output=True).returncode == 0
        requests = portal.stats()["requests"]
    article_pages = {path: count for path, count in requests.items() if path in ARTICLE_PATHS}
    assert set(article_pages) == ARTICLE_PATHS - done, sorted(article_pages)
    assert set(article_pages.values()) == {1}, article_pages
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*), MAX(version) FROM articles").fetchone() == (
            ARTICLES, 1)
