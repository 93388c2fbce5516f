"""A scheduled night through a real scrapyd: deploy, launch, overlap, finish, job history.

scrapyd runs on loopback in a temporary directory of its own (its config, eggs, logs, queue) on
a free port; the project is deployed with ``scrapyd-deploy`` (a ``[deploy:test]`` target in a
scrapy.cfg of the test's own ``XDG_CONFIG_HOME``), and the schedule runner, on an injected clock,
launches ``baonamdinh`` against the replica portal. While that crawl runs, its next due time
starts nothing; once it ended, the articles, WARC files and job-history row are where the
archive keeps them, and the held due time starts one crawl (not one per missed occurrence).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.scheduling.book import Entry, ScheduleBook
from crawler.scheduling.runner import ScheduleRunner
from crawler.scheduling.scrapyd import Scrapyd
from storage.articles import ArticleStore
from storage.jobs import JobHistory
from tests.conftest import LOOPBACK_SETTINGS, PROJECT_ROOT, scrapy
from tests.replica.process import ReplicaProcess

PROJECT = "provincial-news-archiver"
ARTICLES = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory):
    """A scrapyd on 127.0.0.1, with the project deployed; yields its URL and directory."""
    home = tmp_path_factory.mktemp("scrapyd")
    port = free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {home / 'eggs'}\nlogs_dir = {home / 'logs'}\ndbs_dir = {home / 'dbs'}\n"
        "poll_interval = 0.2\nmax_proc = 2\n")
    process = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=home,
                               stdout=subprocess.DEVNULL, stderr=open(home / "scrapyd.err", "w"))
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                if get_json(url + "daemonstatus.json")["status"] == "ok":
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("scrapyd did not start: " + (home / "scrapyd.err").read_text()[-2000:])
        # The archivist's way: a deploy target in their own scrapy.cfg, then scrapyd-deploy.
        xdg = home / "xdg"
        xdg.mkdir()
        (xdg / "scrapy.cfg").write_text(f"[deploy:test]\nurl = {url}\nproject = {PROJECT}\n")
        deploy = subprocess.run(
            [str(Path(sys.executable).with_name("scrapyd-deploy")), "test"], cwd=PROJECT_ROOT,
            env={**os.environ, "XDG_CONFIG_HOME": str(xdg)}, capture_output=True, text=True,
            timeout=120)
        assert deploy.returncode == 0, deploy.stderr + deploy.stdout
        answer = json.loads(deploy.stdout)
        assert answer["status"] == "ok" and answer["spiders"] >= 2, answer
        yield url, home
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_deployed_egg_lists_every_spider(scrapyd):
    url, _ = scrapyd
    spiders = get_json(url + "listspiders.json?project=" + PROJECT)["spiders"]
    assert {"baonamdinh", "portal", "vnexpress"} <= set(spiders)


def wait_finished(client: Scrapyd, job: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = client.jobs().get(job)
        if listed is not None and listed.state == "finished":
            return
        time.sleep(0.2)
    pytest.fail(f"scrapyd job {job} did not finish in {timeout} s")


def test_a_scheduled_crawl_runs_under_scrapyd_and_lands_in_the_job_history(
        scrapyd, tmp_path):
    url, home = scrapyd
    archive = tmp_path / "archive"
    book = ScheduleBook(archive / "schedule")
    client = Scrapyd(url, PROJECT)
    now = [datetime(2025, 3, 1, 2, 30, 5, tzinfo=timezone.utc)]
    with ReplicaProcess(articles=ARTICLES) as replica:
        origin = replica.origin
        book.add(Entry(
            id="baonamdinh", spider="baonamdinh", every="daily 02:30", timezone="UTC",
            host="127.0.0.1", created="2025-02-28T12:00:00+00:00",
            args={"base_url": replica.origin + "/"}, settings=LOOPBACK_SETTINGS, scrapyd=url))
        runner = ScheduleRunner(book, archive, default_scrapyd="http://127.0.0.1:1/",
                                project=PROJECT, stagger=0, clock=lambda: now[0])
        first = runner.tick()
        assert first.launched == [("baonamdinh", "baonamdinh-20250301T023000Z")], first
        job = first.launched[0][1]

        # The next night comes while the first crawl still runs: nothing starts.
        assert client.jobs()[job].state in ("pending", "running")
        now[0] = datetime(2025, 3, 2, 2, 31, tzinfo=timezone.utc)
        second = runner.tick()
        assert second.launched == []
        assert second.waiting == {"baonamdinh": "its last crawl is still running"}
        assert list(client.jobs()) == [job]

        wait_finished(client, job)
        log = (home / "logs" / PROJECT / "baonamdinh" / f"{job}.log").read_text()
        assert "Crawl summary: baonamdinh (finished): complete" in log, log[-3000:]

        # The held due time starts once, now that the crawl ended.
        third = runner.tick()
        assert third.launched == [("baonamdinh", "baonamdinh-20250302T023000Z")]
        assert runner.tick().launched == []
        wait_finished(client, third.launched[0][1])

    with ArticleStore(archive / "articles.sqlite3") as store:
        assert store.count("baonamdinh") == ARTICLES
        history = JobHistory.of(store).jobs(site="baonamdinh")
    by_job = {row.job: row for row in history}
    row = by_job[job]
    assert row.status == "complete" and row.exit_code == 0 and row.finished
    assert row.summary["articles_new"] == ARTICLES
    assert row.summary["pages_fetched"] > ARTICLES
    assert row.flags == ()
    warcs = sorted((archive / "warc").glob("baonamdinh-*.warc.gz"))
    assert warcs and not list((archive / "warc").glob("*.open"))
    assert set(row.summary["warc_file_names"]) <= {path.name for path in warcs}
    with open(archive / "warc" / row.summary["warc_file_names"][0], "rb") as handle:
        uris = {record.rec_headers.get_header("WARC-Target-URI")
                for record in ArchiveIterator(handle) if record.rec_type == "response"}
    assert origin + "/" in uris
    assert by_job["baonamdinh-20250302T023000Z"].summary["articles_new"] == 0


def test_a_catalogued_portal_added_on_the_command_line_runs_under_scrapyd(scrapyd, tmp_path):
    """``schedule add <catalogue id>``: the portal spider, its catalogue read from the egg."""
    url, _ = scrapyd
    archive = tmp_path / "archive"
    with ReplicaProcess(articles=20) as replica:
        settings = [f"--setting={name}={value}" for name, value in LOOPBACK_SETTINGS.items()]
        added = scrapy("schedule", "add", "hanoimoi", "--every", "daily 03:00",
                       "--args", f"base_url={replica.origin}/", *settings, "--scrapyd", url,
                       "-s", f"ARCHIVE_DIR={archive}")
        assert added.returncode == 0, added.stderr
        assert "portal -a site=hanoimoi" in added.stdout
        later = datetime.now(timezone.utc) + timedelta(days=1)
        runner = ScheduleRunner(ScheduleBook(archive / "schedule"), archive,
                                default_scrapyd="http://127.0.0.1:1/", project=PROJECT,
                                clock=lambda: later)
        launched = runner.tick().launched
        assert [entry for entry, _ in launched] == ["hanoimoi"]
        wait_finished(Scrapyd(url, PROJECT), launched[0][1])
    listed = scrapy("schedule", "list", "-s", f"ARCHIVE_DIR={archive}")
    assert f"(job {launched[0][1]})" in listed.stdout
    jobs = scrapy("jobs", "--site", "hanoimoi", "-s", f"ARCHIVE_DIR={archive}")
    assert jobs.returncode == 0, jobs.stderr
    line = jobs.stdout.splitlines()[2]
    assert "hanoimoi" in line and "complete" in line and launched[0][1] in line, jobs.stdout
    with ArticleStore(archive / "articles.sqlite3") as store:
        assert store.count("hanoimoi") == 20
    assert list((archive / "warc").glob("portal-hanoimoi-*.warc.gz"))
