"""Many workers on one frontier (REDIS_URL): two ``scrapy crawl`` processes share one crawl.

A private redis-server (no persistence) and the replica portal run for the module. Two workers
crawl the replica at once into one archive directory (the SQLite store and the WARC directory are
shared, as on one machine): every article is stored exactly once, every page is archived once
across both workers' WARC files, each file names its worker, and discovery ran once. Then one of
two workers is killed with SIGKILL mid-crawl: the other finishes the frontier (taking back the
requests the dead one held), and once the killed worker is started again (recovering its ``.open``
file) every article and every page is in the archive.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.frontier import Frontier
from tests.conftest import LOOPBACK_SETTINGS, PROJECT_ROOT, scrapy
from tests.redis_process import MISSING, available
from tests.replica.content import build_site
from tests.replica.process import ReplicaProcess

pytestmark = pytest.mark.skipif(not available(), reason=MISSING)

ARTICLES = 60
SITE = build_site(articles=ARTICLES)
ARTICLE_PATHS = frozenset(article.path for article in SITE.articles)
# Two request slots per worker and a small delay at the portal (every request, as a real portal's
# latency): the crawl lasts long enough for both workers to take part, and for a kill mid-way.
SETTINGS = {**LOOPBACK_SETTINGS, "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
            "FRONTIER_LEASE_TIMEOUT": "3", "FRONTIER_POLL_INTERVAL": "0.2"}
PORTAL_DELAY = ["--fault", "slow", "--fault-burst", "1000000", "--slow-seconds", "0.02"]


@pytest.fixture(scope="module")
def portal():
    with ReplicaProcess(articles=ARTICLES, extra_args=PORTAL_DELAY) as replica:
        yield replica


def worker(origin: str, archive: Path, redis_url: str, log: Path, **settings: str):
    """Start one worker (``scrapy crawl`` itself, not a shell: its pid is the crawl's)."""
    command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh", "-a", f"base_url={origin}/",
               "-s", f"ARCHIVE_DIR={archive}"]
    for name, value in {**SETTINGS, **settings}.items():
        command += ["-s", f"{name}={value}"]
    env = {**os.environ, "REDIS_URL": redis_url}
    with log.open("w") as output:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=output, stderr=output, env=env)


def stored_count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


@dataclass
class Warcs:
    """What every WARC file of an archive holds."""

    files: list[Path]
    responses: collections.Counter  # path -> response records
    captures: collections.Counter  # path -> response and revisit records
    workers: dict[str, str]  # file name -> warcinfo's worker

    @classmethod
    def read(cls, warc_dir: Path) -> Warcs:
        files = sorted(warc_dir.glob("*.warc.gz"))
        responses: collections.Counter = collections.Counter()
        captures: collections.Counter = collections.Counter()
        workers = {}
        for path in files:
            with path.open("rb") as stream:
                for record in ArchiveIterator(stream):
                    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                    page = "/" + uri.split("/", 3)[3] if uri.count("/") >= 3 else uri
                    if record.rec_type == "warcinfo":
                        fields = dict(line.split(": ", 1) for line in
                                      record.content_stream().read().decode().splitlines()
                                      if ": " in line)
                        workers[path.name] = fields.get("worker")
                    elif record.rec_type == "response":
                        responses[page] += 1
                        captures[page] += 1
                    elif record.rec_type == "revisit":
                        captures[page] += 1
        return cls(files, responses, captures, workers)


def summaries(archive: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in (archive / "reports").glob("*/summary.json")]


def finish(process: subprocess.Popen, log: Path, timeout: float = 240) -> str:
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the worker did not finish in {timeout} s: {log.read_text()[-4000:]}")
    finally:
        if process.poll() is None:
            process.kill()
    text = log.read_text()
    assert process.returncode == 0, text[-4000:]
    return text


# --- The frontier's leases, on the real server ---------------------------------------------------


@pytest.fixture
def frontiers(redis_server):
    """Two workers' frontiers of one crawl (a short lease), on an empty server."""
    redis_server.flush()
    clients = [redis_server.client() for _ in range(3)]
    yield [Frontier(client, "site", name, lease_timeout=0.3) for client, name in
           zip(clients, ("one", "two", "one"), strict=True)]
    for client in clients:
        client.close()


def test_a_popped_request_stays_leased_until_acknowledged(frontiers):
    one, two, _ = frontiers
    one.join()
    assert one.push(b"a", -5, "fp-a") and one.push(b"b", 0, "fp-b")
    assert not two.push(b"a-again", 0, "fp-a")  # seen: by any worker
    assert one.pop() == b"a"  # the highest priority first
    assert one.queued() == 1 and one.server.hgetall(one.lease_key) == {b"a": b"-5"}
    one.ack([b"a"])
    assert one.server.hlen(one.lease_key) == 0


def test_a_dead_workers_leases_go_back_to_the_queue(frontiers):
    one, two, _ = frontiers
    one.join()
    two.join()
    one.push(b"a", 0, "fp-a")
    assert one.pop() == b"a"
    assert two.reclaim_dead() == 0  # one is alive
    time.sleep(0.4)  # one stops renewing: dead
    two.renew()
    assert two.reclaim_dead() == 1
    assert two.pop() == b"a"


def test_a_restarted_worker_takes_back_its_own_leases_at_once(frontiers):
    one, _, one_restarted = frontiers
    one.join()
    one.push(b"a", 0, "fp-a")
    one.pop()
    assert one_restarted.join() == 1
    assert one_restarted.pop() == b"a"


def test_a_run_is_done_once_seeded_with_nothing_queued_or_leased(frontiers):
    one, two, _ = frontiers
    one.join()  # a worker joins (its scheduler opens) before its start() is read
    two.join()
    assert one.claim_seeding("site") and not two.claim_seeding("site")
    assert not two.done()  # still seeding: more may come
    one.push(b"a", 0, "fp-a")
    one.seeded()
    assert two.pop() == b"a" and not one.done()  # leased: it may yield more
    two.ack([b"a"])
    assert one.done() and two.done()
    # The next worker to start begins a new run, with a fresh seen set.
    assert two.claim_seeding("site") and two.push(b"a", 0, "fp-a")


def test_a_live_worker_takes_over_the_seeding_of_a_dead_one(frontiers):
    one, two, _ = frontiers
    one.join()
    two.join()
    assert one.claim_seeding("site")
    assert not two.claim_seeding("site", new_run=False)  # the seeder is alive
    time.sleep(0.4)  # one dies while seeding
    two.renew()
    assert two.claim_seeding("site", new_run=False)
    two.seeded()
    assert two.done()
    assert not two.claim_seeding("site", new_run=False)  # a finished run is not taken over


def test_a_redis_url_that_does_not_answer_is_refused_in_one_line(tmp_path):
    result = scrapy("crawl", "baonamdinh", "-a", "base_url=http://127.0.0.1:9/",
                    "-s", f"ARCHIVE_DIR={tmp_path}", "-s", "REDIS_URL=redis://127.0.0.1:9/0")
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("scrapy crawl: REDIS_URL redis://127.0.0.1:9/0: "), last
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())  # nothing written


# --- Two workers at once --------------------------------------------------------------------------


@dataclass
class TwoWorkers:
    archive: Path
    logs: list[str]
    fetched: dict[str, int]  # replica path -> requests
    seconds: float


@pytest.fixture(scope="module")
def two_workers(redis_server, portal, tmp_path_factory) -> TwoWorkers:
    redis_server.flush()
    portal.reset_stats()
    archive = tmp_path_factory.mktemp("two-workers") / "archive"
    logs = [archive.parent / f"worker{n}.log" for n in (1, 2)]
    started = time.monotonic()
    processes = [worker(portal.origin, archive, redis_server.url, log) for log in logs]
    texts = [finish(process, log) for process, log in zip(processes, logs, strict=True)]
    for text in texts:  # e.g. "database is locked": the store is shared by both
        assert " ERROR: " not in text, text[-4000:]
    return TwoWorkers(archive, texts, portal.stats()["requests"], time.monotonic() - started)


def test_two_workers_store_every_article_exactly_once(two_workers):
    with sqlite3.connect(two_workers.archive / "articles.sqlite3") as db:
        paths = ["/" + row[0].split("/", 3)[3] for row in db.execute("SELECT url FROM articles")]
        versions = db.execute("SELECT COUNT(*), MAX(version) FROM article_versions").fetchone()
    assert sorted(paths) == sorted(ARTICLE_PATHS)
    assert versions == (ARTICLES, 1)
    # Both took part: each stored some of them.
    stored = sorted(summary["articles_stored"] for summary in summaries(two_workers.archive))
    assert len(stored) == 2 and stored[0] > 0 and sum(stored) == ARTICLES, stored


def test_two_workers_fetch_and_archive_every_page_once(two_workers):
    warcs = Warcs.read(two_workers.archive / "warc")
    # robots.txt is each worker's own: every Scrapy process obeys the rules it read itself.
    pages = {path: count for path, count in warcs.responses.items() if path != "/robots.txt"}
    assert set(ARTICLE_PATHS) <= set(pages)
    assert set(pages.values()) == {1}, {p: n for p, n in pages.items() if n > 1}
    fetched = {path: n for path, n in two_workers.fetched.items() if path != "/robots.txt"}
    assert set(fetched.values()) == {1}, {p: n for p, n in fetched.items() if n > 1}
    assert not list((two_workers.archive / "warc").glob("*.open"))


def test_each_worker_writes_its_own_warc_files_named_by_it(two_workers):
    warcs = Warcs.read(two_workers.archive / "warc")
    workers = set(warcs.workers.values())
    assert len(workers) == 2 and None not in workers, warcs.workers
    for name, worker_id in warcs.workers.items():
        assert name.endswith(f"-{worker_id}.warc.gz"), (name, worker_id)


def test_discovery_runs_once(two_workers):
    seeders = [log for log in two_workers.logs if "runs discovery for the crawl run" in log]
    assert len(seeders) == 1
    assert sum("Discovery of this crawl run is another worker's" in log
               for log in two_workers.logs) == 1
    # The sitemaps were fetched once: by the seeding worker.
    sitemaps = {path: n for path, n in two_workers.fetched.items() if "sitemap" in path}
    assert sitemaps and set(sitemaps.values()) == {1}, sitemaps


def test_a_page_archived_by_one_worker_is_a_revisit_for_the_next(two_workers, redis_server,
                                                                   portal):
    """A second crawl run (full, not incremental) finds every page in the shared digest index."""
    process = worker(portal.origin, two_workers.archive, redis_server.url,
                     two_workers.archive.parent / "again.log", INCREMENTAL="False")
    finish(process, two_workers.archive.parent / "again.log")
    warcs = Warcs.read(two_workers.archive / "warc")
    for path in ARTICLE_PATHS:
        assert (warcs.responses[path], warcs.captures[path]) == (1, 2), path


# --- One of two killed ----------------------------------------------------------------------------


def test_a_killed_worker_loses_nothing(redis_server, portal, tmp_path):
    redis_server.flush()
    archive = tmp_path / "archive"
    db = archive / "articles.sqlite3"
    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    victim = worker(portal.origin, archive, redis_server.url, logs[0], WORKER_ID="victim")
    survivor = worker(portal.origin, archive, redis_server.url, logs[1])
    deadline = time.monotonic() + 120
    while stored_count(db) < ARTICLES * 0.3:
        assert victim.poll() is None and survivor.poll() is None, "a worker ended too soon"
        assert time.monotonic() < deadline, "the crawl never got a third of the way"
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    assert list((archive / "warc").glob("*-victim.warc.gz.open")), "the kill left no .open file"
    held = redis_server.client().hlen("baonamdinh:lease:victim")
    survivor_log = finish(survivor, logs[1])
    # The survivor finished the frontier alone, with what the victim held.
    assert stored_count(db) == ARTICLES
    assert ("stopped (killed?) holding" in survivor_log) == (held > 0)
    # The victim, started again with its id, recovers its .open file (and starts the next run).
    finish(worker(portal.origin, archive, redis_server.url, tmp_path / "restart.log",
                  WORKER_ID="victim"), tmp_path / "restart.log")
    assert not list((archive / "warc").glob("*.open"))
    warcs = Warcs.read(archive / "warc")
    assert set(ARTICLE_PATHS) <= {path for path, n in warcs.responses.items() if n}
    with sqlite3.connect(db) as connection:
        paths = {"/" + row[0].split("/", 3)[3] for row in connection.execute(
            "SELECT url FROM articles")}
        versions = connection.execute(
            "SELECT COUNT(*), MAX(version) FROM article_versions").fetchone()
    assert paths == ARTICLE_PATHS
    assert versions == (ARTICLES, 1)


# --- Two machines: each its own archive directory, one frontier, one PostgreSQL store -------------


def test_two_machines_share_redis_and_postgresql(redis_server, portal, postgres, tmp_path):
    """As on two machines: nothing shared but Redis and the store. Every article is stored once
    in PostgreSQL, every page archived once across the two workers' own WARC directories."""
    import psycopg

    redis_server.flush()
    portal.reset_stats()
    database = postgres.database()
    archives = [tmp_path / f"machine{n}" for n in (1, 2)]
    logs = [tmp_path / f"machine{n}.log" for n in (1, 2)]
    processes = [worker(portal.origin, archive, redis_server.url, log, DATABASE_URL=database)
                 for archive, log in zip(archives, logs, strict=True)]
    for process, log in zip(processes, logs, strict=True):
        assert " ERROR: " not in finish(process, log)
    for archive in archives:  # the store is PostgreSQL: no SQLite file on either machine
        assert not (archive / "articles.sqlite3").exists()
    with psycopg.connect(database) as connection:
        paths = ["/" + row[0].split("/", 3)[3] for row in connection.execute(
            "SELECT url FROM articles")]
        versions = connection.execute(
            "SELECT COUNT(*), MAX(version) FROM article_versions").fetchone()
    assert sorted(paths) == sorted(ARTICLE_PATHS)
    assert versions == (ARTICLES, 1)
    responses: collections.Counter = collections.Counter()
    for archive in archives:
        warcs = Warcs.read(archive / "warc")
        assert warcs.files, f"{archive.name} archived nothing"
        responses.update(warcs.responses)
    pages = {path: n for path, n in responses.items() if path != "/robots.txt"}
    assert set(ARTICLE_PATHS) <= set(pages)
    assert set(pages.values()) == {1}, {p: n for p, n in pages.items() if n > 1}


def test_two_workers_archive_a_portal_nobody_wrote_a_profile_for(redis_server, tmp_path):
    # The any-portal spider learns its selectors and URL shapes from the pages each worker
    # reads; on a shared frontier each worker learns from its own, and nothing is lost or doubled.
    from tests.test_spiders_portal import portal_command

    articles = 40
    redis_server.flush()
    archive = tmp_path / "archive"
    with ReplicaProcess(articles=articles, layout="legacy-asp") as layout_portal:
        command = portal_command(layout_portal.origin + "/", archive, "site_id=namha",
                                 CONCURRENT_REQUESTS_PER_DOMAIN="2", FRONTIER_POLL_INTERVAL="0.2")
        env = {**os.environ, "REDIS_URL": redis_server.url}
        logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
        processes = []
        for log in logs:
            with log.open("w") as output:
                processes.append(subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=output,
                                                  stderr=output, env=env))
        for process, log in zip(processes, logs, strict=True):
            assert " ERROR: " not in finish(process, log)
    with sqlite3.connect(archive / "articles.sqlite3") as db:
        urls = [row[0] for row in db.execute("SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == articles
    warcs = Warcs.read(archive / "warc")
    assert len(warcs.files) == 2 and len(set(warcs.workers.values())) == 2
    # Each worker asks for robots.txt itself (Scrapy's RobotsTxtMiddleware); nothing else twice.
    assert {page for page, count in warcs.responses.items() if count > 1} == {"/robots.txt"}
