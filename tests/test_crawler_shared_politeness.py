"""Two workers on one frontier ask the portal at one crawl's pace, not twice it.

A private redis-server and the replica portal; two ``scrapy crawl`` workers share the crawl
(``REDIS_URL``) with a fixed download delay. The moments the portal's answers were archived
(``WARC-Date``, microseconds, across both workers' WARC files) must be spaced as one crawl spaces
them; with ``SHARED_POLITENESS=False`` the same two workers go about twice as fast, which is the
fault this guards against.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.redis_process import MISSING, available
from tests.replica.process import ReplicaProcess
from tests.test_crawler_frontier import finish, worker

pytestmark = pytest.mark.skipif(not available(), reason=MISSING)

ARTICLES = 10
DELAY = 0.25
# One request at a time per worker, at exactly DELAY apart: the pace is the delay's alone.
PACED = {"DOWNLOAD_DELAY": str(DELAY), "AUTOTHROTTLE_ENABLED": "False",
         "DOWNLOAD_DELAY_JITTER": "0", "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
         "FRONTIER_POLL_INTERVAL": "0.1"}


@pytest.fixture(scope="module")
def portal():
    with ReplicaProcess(articles=ARTICLES) as replica:
        yield replica


def answer_times(warc_dir: Path) -> tuple[list[float], set[str]]:
    """When each portal answer was archived (seconds, sorted), and the files holding them."""
    times, files = [], set()
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type in ("response", "revisit"):
                    date = record.rec_headers.get_header("WARC-Date").replace("Z", "+00:00")
                    times.append(datetime.fromisoformat(date).timestamp())
                    files.add(path.name)
    return sorted(times), files


def crawl_with_two_workers(redis_server, portal, archive: Path, **settings: str):
    redis_server.flush()
    logs = [archive.parent / f"{archive.name}-worker{n}.log" for n in (1, 2)]
    processes = [worker(portal.origin, archive, redis_server.url, log, **PACED, **settings)
                 for log in logs]
    for process, log in zip(processes, logs, strict=True):
        finish(process, log)
    return answer_times(archive / "warc")


def test_two_workers_keep_one_crawls_pace_at_the_portal(redis_server, portal, tmp_path):
    times, files = crawl_with_two_workers(redis_server, portal, tmp_path / "shared")
    assert len(files) == 2  # both workers fetched
    gaps = len(times) - 1
    assert gaps > 20
    # Each answer came at least a delay after the one before, give or take the loopback's jitter.
    assert times[-1] - times[0] >= gaps * DELAY * 0.9, (times[-1] - times[0], gaps)

    alone, files = crawl_with_two_workers(redis_server, portal, tmp_path / "alone",
                                          SHARED_POLITENESS="False")
    assert len(files) == 2 and len(alone) == len(times)
    # Measured: 0.64 of one crawl's span (discovery is one worker's alone, so not 0.5).
    assert alone[-1] - alone[0] < gaps * DELAY * 0.8, (alone[-1] - alone[0], gaps)
