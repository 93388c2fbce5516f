"""Shared fixtures: the replica portal on loopback, and one full crawl of it per test session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.postgres import PostgresCluster, find_bindir
from tests.redis_process import RedisProcess
from tests.replica.content import build_site
from tests.replica.process import ReplicaProcess

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Politeness relaxed for loopback only (the same switches as `make demo`).
LOOPBACK_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "PROGRESS_INTERVAL": "0.5",  # short enough to see progress lines in a seconds-long crawl
}


@dataclass
class CrawlRun:
    """A finished `scrapy crawl` subprocess and what it left in its archive directory."""

    archive: Path
    returncode: int
    log: str

    @property
    def summary(self) -> dict:
        return json.loads((self.archive / "last-crawl.json").read_text())

    @property
    def db(self) -> Path:
        return self.archive / "articles.sqlite3"

    @property
    def warc_files(self) -> list[Path]:
        return sorted((self.archive / "warc").glob("*.warc.gz*"))


def scrapy(
    *args: str, cwd: Path = PROJECT_ROOT, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run the `scrapy` command line of this project."""
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args], cwd=cwd, capture_output=True, text=True,
        timeout=timeout,
    )


def run_crawl(origin: str, archive: Path, *arguments: str, **settings: str) -> CrawlRun:
    """Crawl the replica at ``origin`` with the baonamdinh spider into ``archive``."""
    options = ["-a", f"base_url={origin}/", "-s", f"ARCHIVE_DIR={archive}"]
    for name, value in {**LOOPBACK_SETTINGS, **settings}.items():
        options += ["-s", f"{name}={value}"]
    for argument in arguments:
        options += ["-a", argument]
    result = scrapy("crawl", "baonamdinh", *options)
    return CrawlRun(archive, result.returncode, result.stderr)


@pytest.fixture(scope="session")
def site():
    """The replica's ground truth: every article as generated."""
    return build_site()


@pytest.fixture(scope="session")
def replica():
    """The replica portal, serving on 127.0.0.1 for the whole session."""
    with ReplicaProcess() as process:
        yield process


@pytest.fixture(scope="session")
def full_crawl(replica, tmp_path_factory) -> CrawlRun:
    """One full crawl of the replica, shared by the tests that inspect its results."""
    run = run_crawl(replica.origin, tmp_path_factory.mktemp("full-crawl"))
    assert run.returncode == 0, run.log[-4000:]
    return run


@pytest.fixture(scope="module")
def redis_server():
    """A private redis-server (no persistence) for one test module (``tests/redis_process.py``);
    the modules using it skip themselves when redis-server is not installed."""
    with RedisProcess() as server:
        yield server


@pytest.fixture(scope="session")
def postgres():
    """A private PostgreSQL cluster for the session (``tests/postgres.py``).

    Skipped when PostgreSQL is not installed, unless ``CI`` is set: there it must run.
    """
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (make install installs it as root)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    cluster = PostgresCluster(bindir)
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request, tmp_path):
    """Where a test's article store lives: an SQLite file, or an empty PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "articles.sqlite3"
    return request.getfixturevalue("postgres").database()
