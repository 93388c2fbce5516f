"""Keep a crawl's job directory (Scrapy's ``JOBDIR``) trustworthy across stops, crashes and runs.

Scrapy's job directory holds the request queue, the dupefilter's seen set and ``spider.state``;
they are complete only after a graceful stop (Ctrl-C once, SIGTERM), which Scrapy resumes exactly.
After ``kill -9`` or a power cut they are not: the queue's index is written on close only, and the
seen set may name requests that were still queued. So this extension keeps a marker,
``JOBDIR/crawl-state.json`` (``{"state": "running" | "paused" | "finished", "started": …}``), and
before the scheduler opens the directory:

* ``paused`` (graceful stop): the job directory is kept and Scrapy resumes it; the discovery
  requests that failed before the stop (``discovery_failed`` in the marker) still count against
  the resumed crawl's completeness (``discovery/failed_before_pause``), since Scrapy does not
  request them again;
* ``running`` (the last crawl died): queue, seen set and spider state are discarded, with a
  warning; the portal spider rediscovers from sitemaps, feeds and listings, and skips the
  articles already in the store (``interrupted_since`` in the marker tells it since when);
* ``finished`` (or no marker): a new crawl; leftovers of the last one are discarded.

What the portal spider needs from the marker (`interrupted_since`) it reads once, when it is
built (``PortalSpider.from_crawler``). This extension reads the marker when it is built too, and
rewrites it only in ``spider_opened``, after every component is built: both take their decision
from the marker the last crawl left, whichever is built first.

Settings: ``JOBDIR`` (the portal spider defaults it to ``<ARCHIVE_DIR>/jobs/<spider name>``;
``-s JOBDIR=`` switches job state off, and this extension with it).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.job import job_dir

logger = logging.getLogger(__name__)

MARKER = "crawl-state.json"
# What Scrapy keeps in a job directory (scheduler queue, dupefilter, SpiderState).
SCRAPY_JOB_FILES = ("requests.queue", "requests.seen", "spider.state")


def read_marker(directory: str | Path) -> dict:
    """The job directory's marker, or {} when there is none (or it is unreadable)."""
    try:
        return json.loads((Path(directory) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def interrupted_since(directory: str | Path) -> str | None:
    """When the killed crawl that a crawl starting now in ``directory`` carries on started.

    None when the last crawl there finished (a crawl of its own). After a graceful stop the
    window of the crash the paused crawl carried on (if any) is kept; after a crash it is the
    crashed crawl's, or the first of several crashes in a row. Read from the marker as the last
    crawl left it: call it before this crawl's extension rewrites the marker (see the module
    docstring).
    """
    return _interrupted_since(read_marker(directory))


def _interrupted_since(previous: dict) -> str | None:
    state = previous.get("state")
    if state == "paused":
        return previous.get("interrupted_since")
    if state == "running":
        # A second crash keeps the first start: the whole interrupted crawl is one window.
        return previous.get("interrupted_since") or previous.get("started")
    return None


def write_marker(directory: Path, marker: dict) -> None:
    """Write the marker atomically: a crash leaves the old one or the new one, never half."""
    partial = directory / (MARKER + ".partial")
    partial.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, directory / MARKER)


class CrawlJobState:
    """Discard job state a crash left behind; mark the job running, paused or finished."""

    def __init__(self, directory: Path, stats) -> None:
        self.directory = directory
        self.stats = stats
        self.marker = self._prepare()

    @classmethod
    def from_crawler(cls, crawler):
        directory = job_dir(crawler.settings)
        if not directory:
            raise NotConfigured("JOBDIR is not set")
        # Built with the other extensions, before the engine opens the scheduler on JOBDIR.
        extension = cls(Path(directory), crawler.stats)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def _prepare(self) -> dict:
        previous = read_marker(self.directory)
        now = datetime.now(timezone.utc).isoformat()
        state = previous.get("state")
        if state == "paused":
            logger.info("Resuming the crawl paused in %s (started %s)", self.directory,
                        previous.get("started"))
            return {**previous, "state": "running", "resumed": now}
        leftovers = [name for name in SCRAPY_JOB_FILES if (self.directory / name).exists()]
        if state == "running":
            since = _interrupted_since(previous)
            logger.warning(
                "The last crawl in %s did not stop cleanly (killed or crashed); its queue is "
                "not trustworthy and is discarded. Resuming by rediscovery: articles stored "
                "since %s are not fetched again.", self.directory, since,
            )
            self._discard(leftovers)
            return {"state": "running", "started": now, "interrupted_since": since}
        self._discard(leftovers)
        return {"state": "running", "started": now}

    def _discard(self, names: list[str]) -> None:
        for name in names:
            path = self.directory / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()

    def spider_opened(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        write_marker(self.directory, self.marker)
        if "interrupted_since" in self.marker:
            self.stats.set_value("job/resumed_after_crash", True)
        if self.marker.get("discovery_failed"):
            self.stats.set_value("discovery/failed_before_pause", self.marker["discovery_failed"])

    def spider_closed(self, reason: str) -> None:
        # Only "finished" means every request was handled; any other reason (shutdown on
        # Ctrl-C or SIGTERM, a CloseSpider condition) leaves a queue worth resuming.
        state = "finished" if reason == "finished" else "paused"
        stats = self.stats.get_stats()
        discovery_failed = stats.get("discovery/failed_before_pause", 0) + sum(
            count for key, count in stats.items() if key.startswith("discovery/failed/"))
        write_marker(self.directory, {**self.marker, "state": state, "reason": reason,
                                      "discovery_failed": discovery_failed})
