"""Scheduler disk queues that write requests to the job directory only when they must.

With a job directory (``JOBDIR``) Scrapy pickles every request into a disk queue when it is
scheduled and unpickles it when it is downloaded: about 6% of a crawl's CPU (``docs/scale.md``),
for files that matter only after a graceful stop. After a crash they are not trusted anyway
(``crawler/extensions/jobstate.py`` discards them). These queues keep requests as they are, in
memory, and write them to the wrapped Scrapy disk queue (same files, same format) when

* the queue closes (a graceful stop: Ctrl-C, SIGTERM, a close condition), so a paused crawl
  resumes exactly what it had queued; and
* more than ``SCHEDULER_DISK_QUEUE_BUFFER`` requests wait in one queue: the oldest half goes
  to disk, so a crawl whose sitemaps list a million articles holds at most that many requests
  per queue (one queue per priority and download slot) in memory.

The order of requests is the wrapped queue's: every request on disk is older than every request
in memory, so a last-in-first-out queue serves memory, then disk, and a first-in-first-out queue
disk, then memory. A request that cannot be serialized stays in memory (served first, as
Scrapy's scheduler serves its memory queue before its disk queue), and is counted as
``scheduler/unserializable``; one still queued at a graceful stop is lost, as in Scrapy.

A request written to disk and read back costs Scrapy ~150 µs, two thirds of it
``Request.to_dict`` looking the callback's name up among every member of the spider
(``inspect.getmembers``); the wrapped queue is given `SpiderCallbacks` instead, which lists only
the callbacks already seen: the same names, ~55 µs in all.

`BufferedPickleLifoDiskQueue` wraps Scrapy's ``PickleLifoDiskQueue`` (``SCHEDULER_DISK_QUEUE``),
`BufferedPickleFifoDiskQueue` its ``PickleFifoDiskQueue`` (``SCHEDULER_START_DISK_QUEUE`` and
breadth-first crawls).

Settings: ``SCHEDULER_DISK_QUEUE_BUFFER`` - requests one queue keeps in memory (default 1000).
"""

from __future__ import annotations

import inspect
import logging
import os
from collections import deque
from typing import Any, ClassVar

from scrapy import Request
from scrapy.squeues import PickleFifoDiskQueue, PickleLifoDiskQueue

logger = logging.getLogger(__name__)

DEFAULT_BUFFER = 1000


class SpiderCallbacks:
    """The spider as Scrapy's request serialization sees it: the callbacks it has named so far.

    ``Request.to_dict(spider=...)`` names a callback by searching the members of the object it is
    given for the same function; this object's members are the spider's methods requests have
    used (`learn`), so the search is short. ``request_from_dict`` finds any other name on the
    spider itself.
    """

    def __init__(self, spider) -> None:
        self._spider = spider
        self._methods: dict[str, Any] = {}
        self._seen: set[Any] = set()

    def learn(self, method: Any) -> None:
        """Make the spider's method of the same function a member (else leave it to Scrapy)."""
        function = getattr(method, "__func__", None)
        if function is None or function in self._seen:
            return
        self._seen.add(function)
        name = getattr(method, "__name__", "")
        if getattr(getattr(self._spider, name, None), "__func__", None) is not function:
            # Known under another attribute name, or not the spider's: its members say.
            name = next((member for member, value in inspect.getmembers(
                self._spider, inspect.ismethod) if value.__func__ is function), None)
        if name:
            self._methods[name] = getattr(self._spider, name)

    def __dir__(self) -> list[str]:
        return list(self._methods)

    def __getattr__(self, name: str) -> Any:
        methods = self.__dict__.get("_methods", {})
        if name in methods:
            return methods[name]
        return getattr(self.__dict__["_spider"], name)


class _BufferedDiskQueue:
    """A request queue in memory in front of one of Scrapy's disk queues (see the module)."""

    disk_queue: ClassVar[type]
    last_in_first_out: ClassVar[bool]

    def __init__(self, crawler, key: str, buffer: int = DEFAULT_BUFFER) -> None:
        self.crawler = crawler
        self.key = key
        self.buffer = max(buffer, 1)
        self._memory: deque[Request] = deque()
        # Requests that cannot be written to disk: served first, never spilled.
        self._held: deque[Request] = deque()
        self.callbacks: SpiderCallbacks | None = None
        # Opened when something must go to disk, or at once when a paused crawl left a file.
        self._disk = self._open_disk() if os.path.exists(key) else None

    @classmethod
    def from_crawler(cls, crawler, key: str, *args, **kwargs):
        return cls(crawler, key, crawler.settings.getint("SCHEDULER_DISK_QUEUE_BUFFER",
                                                         DEFAULT_BUFFER))

    def _open_disk(self):
        disk = self.disk_queue.from_crawler(self.crawler, self.key)
        # Scrapy's queue serializes with its ``spider``: see `SpiderCallbacks`.
        disk.spider = self.callbacks = SpiderCallbacks(self.crawler.spider)
        return disk

    def push(self, request: Request) -> None:
        self._memory.append(request)
        if len(self._memory) > self.buffer:
            self._spill(len(self._memory) // 2)

    def _spill(self, count: int) -> None:
        """Write the ``count`` oldest requests in memory to disk, oldest first."""
        if self._disk is None:
            self._disk = self._open_disk()
        for _ in range(count):
            request = self._memory.popleft()
            self.callbacks.learn(request.callback)
            self.callbacks.learn(request.errback)
            try:
                self._disk.push(request)
            except ValueError as error:
                self._held.append(request)
                self.crawler.stats.inc_value("scheduler/unserializable")
                logger.warning("Request %s cannot be written to the job directory: %s",
                               request, error)

    def pop(self) -> Request | None:
        if self._held:
            return self._held.popleft()
        if self.last_in_first_out:
            if self._memory:
                return self._memory.pop()
            return self._disk.pop() if self._disk is not None else None
        if self._disk is not None and len(self._disk):
            return self._disk.pop()
        return self._memory.popleft() if self._memory else None

    def peek(self) -> Request | None:
        if self._held:
            return self._held[0]
        if self.last_in_first_out:
            if self._memory:
                return self._memory[-1]
            return self._disk.peek() if self._disk is not None else None
        if self._disk is not None and len(self._disk):
            return self._disk.peek()
        return self._memory[0] if self._memory else None

    def close(self) -> None:
        """Write what is queued in memory to disk (a graceful stop), and close the file."""
        if self._memory:
            self._spill(len(self._memory))
        if self._held:
            logger.warning("%s requests that cannot be serialized were still queued; a resumed "
                           "crawl will not make them", len(self._held))
            self._held.clear()
        if self._disk is not None:
            self._disk.close()

    def __len__(self) -> int:
        disk = len(self._disk) if self._disk is not None else 0
        return len(self._memory) + len(self._held) + disk


class BufferedPickleLifoDiskQueue(_BufferedDiskQueue):
    """Scrapy's ``PickleLifoDiskQueue``, written only on a graceful stop or when full."""

    disk_queue = PickleLifoDiskQueue
    last_in_first_out = True


class BufferedPickleFifoDiskQueue(_BufferedDiskQueue):
    """Scrapy's ``PickleFifoDiskQueue``, written only on a graceful stop or when full."""

    disk_queue = PickleFifoDiskQueue
    last_in_first_out = False
