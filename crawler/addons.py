"""Scrapy add-ons of the project: settings derived from other settings before a crawl starts.

``ContactUserAgent`` fills ``{contact_url}`` in ``USER_AGENT`` from ``CONTACT_URL``, so that
``-s CONTACT_URL=…`` alone gives portals' admins a way to reach whoever runs the crawl; robots.txt
matching, the requests and the WARC ``warcinfo`` record all see the final string. Without a
contact (allowed for loopback crawls only) the User-Agent leaves the ``+…;`` part out.

``RedisFrontier`` switches a crawl to the shared frontier of many workers when ``REDIS_URL`` is set
(``crawler/frontier.py``, docs/scaling.md).
"""

from __future__ import annotations

import os
import re

from scrapy.settings import SETTINGS_PRIORITIES

from crawler.cli import InputError


class ContactUserAgent:
    """Format ``USER_AGENT`` with ``CONTACT_URL``."""

    def update_settings(self, settings) -> None:
        template = settings.get("USER_AGENT") or ""
        if "{contact_url}" in template:
            contact = (settings.get("CONTACT_URL") or "").strip()
            # No contact (loopback crawls only, see crawler/extensions/contact.py): no "+; ".
            agent = (template.replace("{contact_url}", contact) if contact
                     else re.sub(r"\+?\{contact_url\}[;,]?\s*", "", template))
            settings.set("USER_AGENT", agent, priority=settings.getpriority("USER_AGENT"))


def check_redis(url: str) -> None:
    """Refuse, in one line, a ``REDIS_URL`` that is malformed or whose server does not answer."""
    import redis  # only crawls with REDIS_URL pay for importing it (every command would)

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, ValueError) as error:
        raise InputError(f"REDIS_URL {url}: {error}") from None


class RedisFrontier:
    """Share one crawl among many workers through Redis when ``REDIS_URL`` is set.

    ``REDIS_URL`` is read from the settings, else from the environment. It switches the scheduler
    to `crawler.frontier.LeasingScheduler` and the dupefilter to scrapy-redis's (the queue and
    seen set live in Redis and outlive the workers, so Scrapy's ``JOBDIR`` is switched off), adds
    `crawler.frontier.SeedOnceMiddleware` (discovery once per crawl run), names this worker
    (``WORKER_ID``, default ``<hostname>-<pid>``: in its WARC files' names and ``warcinfo``) and
    makes the WARC payload-digest index Redis's (``crawler/middlewares/warc_capture.py``) and each
    portal's pace the workers' together (``crawler/middlewares/shared_politeness.py``).
    """

    def update_settings(self, settings) -> None:
        url = settings.get("REDIS_URL") or os.environ.get("REDIS_URL")
        if not url:
            return
        check_redis(url)
        # Imported only now: the frontier loads scrapy-redis and redis, which would cost every
        # crawl without REDIS_URL (and every other command) ~90 ms of start-up.
        from crawler.frontier import SeedOnceMiddleware, default_worker_id

        # Above the project's own values (DUPEFILTER_CLASS) and the spider's (JOBDIR); what
        # the command line sets still wins.
        priority = SETTINGS_PRIORITIES["spider"]

        def switch(name: str, value) -> None:
            if settings.getpriority(name) is None or settings.getpriority(name) <= priority:
                settings.set(name, value, priority=priority)

        switch("REDIS_URL", url)
        switch("SCHEDULER", "crawler.frontier.LeasingScheduler")
        switch("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter")
        switch("SCHEDULER_QUEUE_CLASS", "scrapy_redis.queue.PriorityQueue")
        switch("SCHEDULER_PERSIST", True)
        switch("JOBDIR", "")
        switch("WORKER_ID", settings.get("WORKER_ID") or default_worker_id())
        settings.set_in_component_priority_dict(
            "SPIDER_MIDDLEWARES", SeedOnceMiddleware, 0)
        # The workers together keep one crawl's pace per portal (SHARED_POLITENESS).
        settings.set_in_component_priority_dict(
            "DOWNLOADER_MIDDLEWARES",
            "crawler.middlewares.shared_politeness.SharedPolitenessMiddleware", 660)
