"""Many workers on one frontier: scrapy-redis's scheduler with leases, and discovery done once.

Switched on by ``REDIS_URL`` (the `crawler.addons.RedisFrontier` add-on sets ``SCHEDULER`` to
`LeasingScheduler`, ``DUPEFILTER_CLASS`` to scrapy-redis's and adds `SeedOnceMiddleware`). Every
worker (a ``scrapy crawl`` process, on any machine) with the same ``REDIS_URL`` and spider shares
one crawl: one request queue (scrapy-redis's priority queue, ``<spider>:requests``) and one seen
set (``<spider>:dupefilter``).

scrapy-redis pops a request off the queue, so a worker killed while downloading or parsing it would
lose it. Here a pop moves the request, in one Lua script, into the worker's lease
(``<spider>:lease:<worker id>``, a hash of the serialised request and its queue score), and the
request leaves the lease only when Scrapy is done with it: its response parsed and every item and
request its callback yielded stored or queued. A worker renews ``<spider>:alive:<worker id>``
(expiring after ``FRONTIER_LEASE_TIMEOUT`` seconds) while it runs; any live worker puts the leases
of a worker whose key expired back on the queue, and a worker restarted with the same ``WORKER_ID``
takes back its own at once. A graceful stop (Ctrl-C, SIGTERM) puts the worker's unfinished requests
back before it exits. So each request is handled at least once: a request whose worker died after
archiving its page but before finishing with it is fetched again by another worker.

Discovery (robots.txt aside, which each worker reads for itself: sitemaps, feeds, listings, owed
images, failed articles due a retry) is the spider's ``start()``: only the worker that claims the
crawl run in ``<spider>:frontier`` (the first to start one, or the next one to start after a run
finished, or after the seeding worker died) yields it; the others only let ``start()`` set up (read
the store's history) and then take requests from the queue. The seeder queues all of discovery at
once (the queue is in Redis, not in memory); should it die before that is done, a live worker
claims the seeding and runs discovery again (the seen set drops what was queued already). A worker
closes when the whole crawl is done: the run seeded, the queue empty and no live worker holding a
lease, since a request in any lease may still yield more. The run is then marked finished, and the
next worker to start begins a new run with an empty seen set.

Settings: ``REDIS_URL``; ``WORKER_ID`` (default ``<hostname>-<pid>``, set by the add-on);
``FRONTIER_LEASE_TIMEOUT`` (seconds, default 60: a worker silent that long is taken for dead; keep
it above the longest pause of a worker's event loop, e.g. recovering a large ``.open`` WARC file);
``FRONTIER_POLL_INTERVAL`` (seconds between looks at the shared queue while this worker has nothing
to do, default 0.5); scrapy-redis's ``SCHEDULER_QUEUE_KEY``, ``SCHEDULER_DUPEFILTER_KEY``,
``SCHEDULER_SERIALIZER``, ``REDIS_PARAMS``.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis import connection
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

if TYPE_CHECKING:
    from redis import Redis
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

DEFAULT_LEASE_TIMEOUT = 60.0
DEFAULT_POLL_INTERVAL = 0.5

# Pop the request with the lowest score (the highest priority) into this worker's lease.
_POP = """
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #item == 0 then return false end
redis.call('ZREM', KEYS[1], item[1])
redis.call('HSET', KEYS[2], item[1], item[2])
return item[1]
"""
# Seen and queued in one step: a worker dying in between would leave a request seen, never queued.
_PUSH = """
if ARGV[4] == '1' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
return 1
"""
# Put a lease's requests back on the queue.
_RECLAIM = """
local items = redis.call('HGETALL', KEYS[2])
for i = 1, #items, 2 do redis.call('ZADD', KEYS[1], items[i + 1], items[i]) end
redis.call('DEL', KEYS[2])
return #items / 2
"""
# Claim the seeding of a crawl run: none yet, the last one finished (unless ARGV[5] is '0'), or
# its seeder died before it was done.
_CLAIM = """
local state = redis.call('HGET', KEYS[1], 'state')
local seeder = redis.call('HGET', KEYS[1], 'seeder')
local fresh = ((not state) or state == 'finished') and ARGV[5] == '1'
local orphaned = state == 'seeding' and redis.call('EXISTS', ARGV[2] .. seeder) == 0
if not (fresh or orphaned) then return 0 end
if fresh then redis.call('DEL', KEYS[2]) end
redis.call('HSET', KEYS[1], 'state', 'seeding', 'seeder', ARGV[1], 'run', ARGV[3],
           'started', ARGV[4])
return 1
"""
# Whether the run is done: seeded, nothing queued, nothing leased; marks it finished if so.
_DONE = """
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'finished' then return 1 end
if state ~= 'seeded' then return 0 end
if redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if redis.call('HLEN', ARGV[1] .. worker) > 0 then return 0 end
end
redis.call('HSET', KEYS[1], 'state', 'finished', 'finished', ARGV[2])
return 1
"""


def default_worker_id() -> str:
    """This process as a worker: ``<hostname>-<pid>``."""
    return f"{socket.gethostname()}-{os.getpid()}"


class Frontier:
    """One worker's view of a spider's shared crawl in Redis (keys: see the module docstring)."""

    def __init__(
        self, server: Redis, spider_name: str, worker_id: str, *,
        lease_timeout: float = DEFAULT_LEASE_TIMEOUT, queue_key: str | None = None,
        dupefilter_key: str | None = None,
    ) -> None:
        """Name the keys of ``spider_name``'s crawl; nothing is written yet."""
        if lease_timeout <= 0:
            raise ValueError(f"FRONTIER_LEASE_TIMEOUT must be positive, got {lease_timeout}")
        self.server = server
        self.worker_id = worker_id
        self.lease_timeout = lease_timeout
        self.queue_key = queue_key or f"{spider_name}:requests"
        self.dupefilter_key = dupefilter_key or f"{spider_name}:dupefilter"
        self.state_key = f"{spider_name}:frontier"
        self.workers_key = f"{spider_name}:workers"
        self.lease_prefix = f"{spider_name}:lease:"
        self.alive_prefix = f"{spider_name}:alive:"
        self.lease_key = self.lease_prefix + worker_id
        self._pop = server.register_script(_POP)
        self._push = server.register_script(_PUSH)
        self._reclaim = server.register_script(_RECLAIM)
        self._claim = server.register_script(_CLAIM)
        self._done = server.register_script(_DONE)

    # --- Workers ------------------------------------------------------------------------------

    def join(self) -> int:
        """Register this worker as alive; take back what an earlier life of it left leased."""
        self.renew()
        self.server.sadd(self.workers_key, self.worker_id)
        return self._reclaim(keys=[self.queue_key, self.lease_key])

    def renew(self) -> None:
        """Say this worker is alive for another ``lease_timeout`` seconds."""
        self.server.set(self.alive_prefix + self.worker_id, str(time.time()),
                        px=int(self.lease_timeout * 1000))

    def reclaim_dead(self) -> int:
        """Put the leases of workers that stopped renewing back on the queue; return how many."""
        returned = 0
        for raw in self.server.smembers(self.workers_key):
            worker = raw.decode() if isinstance(raw, bytes) else raw
            if worker == self.worker_id or self.server.exists(self.alive_prefix + worker):
                continue
            count = self._reclaim(keys=[self.queue_key, self.lease_prefix + worker])
            self.server.srem(self.workers_key, worker)
            if count:
                logger.warning("Worker %s stopped (killed?) holding %d requests: back on the "
                               "queue", worker, count)
            returned += count
        return returned

    def leave(self) -> int:
        """Put this worker's unfinished requests back and unregister it; return how many."""
        returned = self._reclaim(keys=[self.queue_key, self.lease_key])
        self.server.srem(self.workers_key, self.worker_id)
        self.server.delete(self.alive_prefix + self.worker_id)
        return returned

    # --- Seeding and the end of a run ----------------------------------------------------------

    def claim_seeding(self, spider_name: str, *, new_run: bool = True) -> bool:
        """Whether this worker seeds (runs discovery for) the crawl run; claims it if so.

        ``new_run=False``: only a run whose seeding worker died before it was done is claimed.
        """
        started = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        run = f"{spider_name}-{started}-{uuid.uuid4().hex[:8]}"
        return bool(self._claim(
            keys=[self.state_key, self.dupefilter_key],
            args=[self.worker_id, self.alive_prefix, run, str(time.time()),
                  "1" if new_run else "0"],
        ))

    def seeded(self) -> None:
        """Discovery's requests are all queued: the run may finish once they are all handled."""
        self.server.hset(self.state_key, "state", "seeded")

    def done(self) -> bool:
        """Whether the run is finished (marking it so when this call finds it so)."""
        return bool(self._done(keys=[self.state_key, self.queue_key, self.workers_key],
                               args=[self.lease_prefix, str(time.time())]))

    # --- Requests ----------------------------------------------------------------------------

    def push(self, data: bytes, score: float, fingerprint: str | None) -> bool:
        """Queue ``data`` unless ``fingerprint`` was seen (``None``: never filtered)."""
        return bool(self._push(
            keys=[self.dupefilter_key, self.queue_key],
            args=[fingerprint or "", data, score, "0" if fingerprint is None else "1"],
        ))

    def pop(self) -> bytes | None:
        """Move the next request into this worker's lease and return it (``None``: none queued)."""
        return self._pop(keys=[self.queue_key, self.lease_key]) or None

    def ack(self, items: list[bytes]) -> None:
        """Drop requests this worker is done with from its lease."""
        if items:
            self.server.hdel(self.lease_key, *items)

    def queued(self) -> int:
        """How many requests wait in the shared queue."""
        return self.server.zcard(self.queue_key)


def frontier_from_crawler(crawler: Crawler, server: Redis | None = None) -> Frontier:
    """The `Frontier` of the crawler's spider and worker, from its settings."""
    settings = crawler.settings
    name = crawler.spidercls.name
    queue_key = settings.get("SCHEDULER_QUEUE_KEY")
    dupefilter_key = settings.get("SCHEDULER_DUPEFILTER_KEY")
    return Frontier(
        server or connection.from_settings(settings), name,
        settings.get("WORKER_ID") or default_worker_id(),
        lease_timeout=settings.getfloat("FRONTIER_LEASE_TIMEOUT", DEFAULT_LEASE_TIMEOUT),
        queue_key=queue_key % {"spider": name} if queue_key else None,
        dupefilter_key=dupefilter_key % {"spider": name} if dupefilter_key else None,
    )


class LeasingScheduler(Scheduler):
    """scrapy-redis's scheduler, with every popped request leased until Scrapy is done with it."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeasingScheduler:
        """Build the scheduler (scrapy-redis reads its settings) and its frontier."""
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.frontier = frontier_from_crawler(crawler, scheduler.server)
        scheduler.poll_interval = crawler.settings.getfloat(
            "FRONTIER_POLL_INTERVAL", DEFAULT_POLL_INTERVAL)
        scheduler._leased = {}
        scheduler._loop = None
        scheduler._last_renewal = 0.0
        return scheduler

    def open(self, spider: Spider) -> None:
        """Open scrapy-redis's queue, join the crawl, and start renewing this worker's lease."""
        if not hasattr(getattr(self.crawler.engine, "_slot", None), "inprogress"):
            # Without it a lease could not tell a finished request from one in progress.
            raise RuntimeError("LeasingScheduler needs Scrapy's engine slot `inprogress` set "
                               "(Scrapy 2.13 to 2.19 have it); this Scrapy has none")
        super().open(spider)
        if returned := self.frontier.join():
            logger.warning("Worker %s was restarted: %d requests it held are back on the queue",
                           self.frontier.worker_id, returned)
            self.stats.inc_value("frontier/reclaimed", returned)
        self._last_renewal = time.monotonic()
        self._loop = task.LoopingCall(self._tick)
        self._loop.start(self.poll_interval, now=False)
        logger.info("Worker %s joined the crawl of %s (%d requests queued)",
                    self.frontier.worker_id, spider.name, self.frontier.queued())

    def close(self, reason: str) -> None:
        """Put back what this worker did not finish and leave the crawl (the queue is kept)."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._ack_finished()
        if returned := self.frontier.leave():
            logger.info("%d unfinished requests put back on the shared queue", returned)
        self._leased.clear()

    def enqueue_request(self, request: Request) -> bool:
        """Queue ``request`` in Redis unless another worker or this one has seen it."""
        fingerprint = None if request.dont_filter else self.df.request_fingerprint(request)
        if not self.frontier.push(self.queue._encode_request(request), -request.priority,
                                  fingerprint):
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        """Lease the next request of the shared queue."""
        # Before the pop: the last request returned is in the engine's in-progress set by now.
        self._ack_finished()
        data = self.frontier.pop()
        if data is None:
            return None
        request = self.queue._decode_request(data)
        self._leased[request] = data
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        """True until the whole crawl (every worker's) is done: a lease may yield more."""
        return not self.frontier.done()

    def __len__(self) -> int:
        """Requests waiting in the shared queue."""
        return self.frontier.queued()

    def _in_progress(self) -> set:
        """Requests the engine has not finished: downloading, or their output being processed.

        The engine keeps a request in its slot's ``inprogress`` set from its download until its
        callback's items went through the pipelines and its requests were queued.
        """
        return self.crawler.engine._slot.inprogress

    def _ack_finished(self) -> None:
        if not self._leased:
            return
        active = self._in_progress()
        finished = [request for request in self._leased if request not in active]
        if finished:
            self.frontier.ack([self._leased.pop(request) for request in finished])
            self.stats.inc_value("frontier/acked", len(finished))

    def _tick(self) -> None:
        """Renew the lease, return dead workers' requests, and look for new work."""
        try:
            self._ack_finished()
            now = time.monotonic()
            if now - self._last_renewal >= self.frontier.lease_timeout / 4:
                self.frontier.renew()
                self.frontier.server.sadd(self.frontier.workers_key, self.frontier.worker_id)
                self._last_renewal = now
                if returned := self.frontier.reclaim_dead():
                    self.stats.inc_value("frontier/reclaimed", returned)
                if self.frontier.claim_seeding(self.spider.name, new_run=False):
                    logger.warning("The worker seeding this crawl run died before it was done: "
                                   "worker %s runs discovery again", self.frontier.worker_id)
                    self.stats.inc_value("frontier/seeding_taken_over")
                    deferred_from_coro(
                        seed(self.crawler, self.frontier, self.spider.start())
                    ).addErrback(lambda failure: logger.error(
                        "Discovery failed: %s", failure.getErrorMessage()))
            # Scrapy looks at the scheduler every 5 s when idle; another worker's output may be
            # waiting now.
            slot = getattr(self.crawler.engine, "_slot", None)
            if slot is not None:
                slot.nextcall.schedule()
        except Exception as error:  # a Redis hiccup must not stop the renewals for good
            logger.error("Frontier upkeep failed: %s", error)


async def seed(crawler: Crawler, frontier: Frontier, start) -> int:
    """Queue every request of ``start`` now, then mark the run seeded; return how many.

    All at once rather than as Scrapy reads start requests (when the downloader has room): the
    queue is in Redis, not in memory, and a run is not done until its seeding is, so a seeder
    killed while part of it waits would leave the others waiting for it (see `LeasingScheduler`).
    """
    queued = 0
    try:
        async for request in start:
            if isinstance(request, Request):
                crawler.engine.crawl(request)
                queued += 1
    finally:
        frontier.seeded()
    logger.info("Discovery queued %d requests for every worker", queued)
    return queued


class SeedOnceMiddleware:
    """Let only the worker that claims the crawl run do discovery (the spider's ``start()``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeedOnceMiddleware:
        return cls(crawler)

    async def process_start(self, start):
        """Queue discovery if this worker seeds the run, else only let ``start()`` set up."""
        frontier = frontier_from_crawler(self.crawler)
        name = self.crawler.spidercls.name
        if frontier.claim_seeding(name):
            logger.info("Worker %s runs discovery for the crawl run", frontier.worker_id)
            self.crawler.stats.set_value("frontier/seeded_by_this_worker", True)
            await seed(self.crawler, frontier, start)
        else:
            logger.info("Discovery of this crawl run is another worker's: taking requests from "
                        "the shared queue")
            # The portal spider reads the store's history before its first request.
            async for _ in start:
                break
            if hasattr(start, "aclose"):
                await start.aclose()
        # An async generator, as Scrapy wants process_start; everything went to the queue.
        for request in ():
            yield request
