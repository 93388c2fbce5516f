"""Scrapy settings of provincial-news-archiver: polite, archival defaults for one machine.

Every default is here with the reason for it. Override per run with ``-s NAME=VALUE``.
"""

from __future__ import annotations

import os

from scrapy.settings import default_settings as _scrapy_defaults

from storage import warc as _warc


def _without(components: dict, name: str) -> dict:
    return {path: order for path, order in components.items() if path != name}


BOT_NAME = "provincial-news-archiver"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "crawler.commands"

# Where everything a crawl keeps goes: WARC files (warc/), the article store, exports. The paths
# under it (ARTICLES_DB, WARC_DIR, ...) are resolved in one place, crawler/paths.py.
ARCHIVE_DIR = "archive"

# --- Politeness -------------------------------------------------------------------------------
# Who we are and how to reach the operator: portals' admins should be able to write to a person.
# Yours, e.g. -s CONTACT_URL=mailto:you@example.org: there is no default, and a crawl of anything
# but loopback hosts refuses to start without one (crawler/extensions/contact.py).
CONTACT_URL = ""
# "{contact_url}" is filled from CONTACT_URL by the ContactUserAgent add-on.
USER_AGENT = "provincial-news-archiver/0.1 (+{contact_url}; news archiving for research)"
ADDONS = {"crawler.addons.ContactUserAgent": 0, "crawler.addons.RedisFrontier": 0}
ROBOTSTXT_OBEY = True
# Small provincial servers: never more than two requests at a time to one portal.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
# AutoThrottle adapts the delay to the server's latency; the ceiling keeps a slow server from
# stalling the crawl for minutes between pages.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
# Scrapy's default: a body cut short of its Content-Length is an error, and retried.
DOWNLOAD_FAIL_ON_DATALOSS = True
RETRY_TIMES = 3
# Portals answer 429/503 under load; both are worth retrying.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# A news page is never 50 MB; a bigger answer is a trap or a mistake.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
# Honour Retry-After on 429/503 (crawler/middlewares/retry_after.py), up to this many seconds.
RETRY_AFTER_ENABLED = True
RETRY_AFTER_MAX = 120.0
# A redirect chain longer than this is a loop; Scrapy's default of 20 only wastes requests.
REDIRECT_MAX_TIMES = 10
# Overriding robots.txt (-s ROBOTSTXT_OBEY=False) is logged as a warning at the start of a crawl.
COOKIES_ENABLED = False
# No control server in a crawl: the telnet console and Scrapy's remote-control HTTP server (which
# runs any Python code sent with its token, written to a job file in the user's state directory).
# docs/archivist.md says how to switch one on for a session.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# Scrapy's built-in lists without the two components crawler/lazy_components.py stands in for:
# Scrapy imports every class named in EXTENSIONS or DOWNLOADER_MIDDLEWARES, even one set to
# None, but not the *_BASE lists' (copied from the installed Scrapy, so they follow its version).
EXTENSIONS_BASE = _without(_scrapy_defaults.EXTENSIONS_BASE,
                           "scrapy.extensions.remote_control.RemoteControl")
DOWNLOADER_MIDDLEWARES_BASE = _without(_scrapy_defaults.DOWNLOADER_MIDDLEWARES_BASE,
                                       "scrapy.downloadermiddlewares.cookies.CookiesMiddleware")

# --- Archiving ----------------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Above HttpCompressionMiddleware (590) and every built-in: it sees responses as received
    # (still compressed) and requests as finally sent.
    "crawler.middlewares.warc_capture.WarcCaptureMiddleware": 950,
    # Just above RetryMiddleware (550): holds a 429/503 for its Retry-After before the retry.
    "crawler.middlewares.retry_after.RetryAfterMiddleware": 560,
    # Records ETag/Last-Modified/304 of article and sitemap fetches for the next crawl.
    "crawler.middlewares.fetch_state.FetchStateMiddleware": 580,
    # Keeps robots.txt Crawl-delay per host.
    "crawler.middlewares.guards.PolitenessGuardMiddleware": 650,
    # In the place of Scrapy's OffsiteMiddleware, which compares host names only: requests,
    # redirects and robots.txt fetches to another origin (scheme, host, port) are dropped, counted
    # as offsite/*, and reported when they are redirects or start URLs (crawler/origins.py).
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.middlewares.origin.OriginGuardMiddleware": 50,
    # Above RedirectMiddleware (600): a redirect to another origin fails its request (errback).
    "crawler.middlewares.origin.OriginRedirectMiddleware": 620,
    # Scrapy's, imported only when COOKIES_ENABLED (crawler/lazy_components.py).
    "crawler.lazy_components.CookiesMiddleware": 700,
}
WARC_ENABLED = True
# Rotate a WARC file once it holds 1 GB (storage.warc.DEFAULT_MAX_SIZE): the size the WARC
# standard suggests and Heritrix uses.
WARC_MAX_SIZE = _warc.DEFAULT_MAX_SIZE
WARC_OPERATOR = ""
# zlib level of each record's gzip member (warcio always uses 9). On news HTML, 6 is ~15% cheaper
# than 9 for <1% more bytes; 1 is twice as fast again for ~30% more (bench/bench_warc.py).
WARC_COMPRESSION_LEVEL = 6
# A payload archived before (same sha1) becomes a small revisit record: a recrawl of an unchanged
# portal costs kilobytes. The digest index is <ARCHIVE_DIR>/warc-digests.sqlite3 (WARC_DIGEST_DB).
WARC_DEDUP = True
# warcinfo's isPartOf (the collection); empty means the spider's name.
WARC_IS_PART_OF = ""
# Fetch the images of each article so the WARC replays the page with its pictures.
ARCHIVE_IMAGES = True
# An image that keeps failing is retried by the next crawl, then 1, 2, 4 … days later, and given
# up after this many failed attempts (spiders/assets.py): a deleted image is not asked for nightly.
ARCHIVE_IMAGES_MAX_ATTEMPTS = 6

# --- Incremental crawls and resume --------------------------------------------------------------
# Fetch only new articles and those the portal says changed (see spiders/base.py);
# -s INCREMENTAL=False recrawls everything.
INCREMENTAL = True
# JOBDIR (Scrapy's job state: queue, seen set) defaults to <ARCHIVE_DIR>/jobs/<spider name>;
# -s JOBDIR= switches it off. crawler/extensions/jobstate.py makes it safe after kill -9.
# Articles a crawl failed to store are tried again by the next crawls, then after 1, 2, 4…
# days, at most FAILED_ARTICLES_MAX_DAYS (crawler/extensions/retries.py).
FAILED_ARTICLES_RETRY = True
FAILED_ARTICLES_MAX_DAYS = 32

# --- Many workers, one crawl (docs/scaling.md) -------------------------------------------------
# REDIS_URL (a setting or the environment variable), e.g. redis://host:6379/0: every worker
# started with it shares one frontier in Redis (scrapy-redis's queue and seen set, leased so a
# killed worker loses nothing; discovery by one worker) and one WARC digest index
# (crawler/frontier.py).
# Unset (the default): one process, Scrapy's own scheduler, nothing to start.
# REDIS_URL = "redis://127.0.0.1:6379/0"
# With REDIS_URL, the workers together ask each portal at one crawl's pace (its download delay,
# AutoThrottle's or robots.txt's), not N times it: each request waits for its host's next free
# moment, reserved in Redis (crawler/middlewares/shared_politeness.py). False: each on its own.
SHARED_POLITENESS = True
# This worker's name in its WARC files' names and warcinfo (default <hostname>-<pid>); a stable
# one lets a restarted worker take back its requests at once instead of after the lease timeout.
# WORKER_ID = "crawler1"
# A worker that has not renewed its lease for this many seconds is taken for dead, and the requests
# it held go back on the queue.
FRONTIER_LEASE_TIMEOUT = 60.0
# A worker with nothing to do looks at the shared queue this often (seconds).
FRONTIER_POLL_INTERVAL = 0.5
# The Redis hash of the shared WARC payload-digest index (instead of WARC_DIGEST_DB).
# WARC_DIGEST_REDIS_KEY = "warc:digests"

# --- Reports --------------------------------------------------------------------------------------
# Each crawl writes its summary.json and failures.jsonl into a folder of its own,
# <CRAWL_REPORTS_DIR>/<spider>-<start UTC>/ (default <ARCHIVE_DIR>/reports), and copies them to
# FAILURES_FILE and CRAWL_SUMMARY_FILE when it ends (crawler/extensions/reports.py).
# CRAWL_REPORTS_DIR = "archive/reports"
# FAILURES_FILE = "archive/failures.jsonl"  (default: <ARCHIVE_DIR>/failures.jsonl)
# CRAWL_SUMMARY_FILE = "archive/last-crawl.json"  (default: <ARCHIVE_DIR>/last-crawl.json)

# --- The portal spider (scrapy crawl portal: sites with no profile, spiders/portal.py) ----------
# Article pages read by the generic path before the site's selectors are decided.
PORTAL_SAMPLE_PAGES = 6
# Pages followed in one listing: beyond, an endless `?page=` is a trap (reported in failures.jsonl).
PORTAL_MAX_LISTING_PAGES = 500

# --- Articles -------------------------------------------------------------------------------------
ITEM_PIPELINES = {
    # Before validation: fill rates count every parsed article (see `scrapy sitecheck`).
    "crawler.pipelines.fillrate.FillRatePipeline": 50,
    "crawler.pipelines.validate.ValidateArticlePipeline": 100,
    "crawler.pipelines.store.ArticleStorePipeline": 500,
}
ARTICLES_REQUIRED_FIELDS = ["title", "body"]
ARTICLES_STORE_ENABLED = True
# ARTICLES_DB = "archive/articles.sqlite3"  (default: <ARCHIVE_DIR>/articles.sqlite3)
# The article store in PostgreSQL instead (postgresql://user:password@host/database, for many
# workers on many machines; docs/scaling.md); empty keeps the SQLite file above. Defaults to the
# environment variable of the same name, so a password need not be on any command line.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# `scrapy sitecheck` fails when a field's fill rate falls by more than this share of articles
# (0.1 = 10 percentage points) since the previous check or crawl: a redesign, not noise.
SITECHECK_MARGIN = 0.1
# How many of a site's latest archived article responses `scrapy sitecheck` re-parses.
SITECHECK_SAMPLE = 500
# `scrapy addsite` writes site modules and fixture folders here (relative to the project).
ADDSITE_SPIDERS_DIR = "spiders"
ADDSITE_FIXTURES_DIR = "tests/sites"

# --- Reporting ----------------------------------------------------------------------------------
EXTENSIONS = {
    # First of all: a live crawl without CONTACT_URL stops before any extension touches a file.
    "crawler.extensions.contact.ContactRequired": -1000,
    "crawler.extensions.progress.CrawlProgress": 500,
    "crawler.extensions.summary.CrawlSummary": 510,
    # Before the engine opens the scheduler: discards job state a crash left behind.
    "crawler.extensions.jobstate.CrawlJobState": 100,
    "crawler.extensions.failures.FailureReport": 505,
    # Before the summary: it counts, when the crawl ends, the failed articles still waiting.
    "crawler.extensions.retries.FailedArticleRetries": 490,
    # Scrapy's, imported only when REMOTE_CONTROL_ENABLED (crawler/lazy_components.py).
    "crawler.lazy_components.RemoteControl": 0,
}
# A progress line with rates every PROGRESS_INTERVAL seconds (instead of Scrapy's LogStats).
PROGRESS_INTERVAL = 30.0
LOGSTATS_INTERVAL = 0
LOG_LEVEL = "INFO"
# Builds Scrapy's per-page DEBUG lines only when DEBUG is logged (crawler/logformatter.py).
LOG_FORMATTER = "crawler.logformatter.CrawlLogFormatter"

# --- Engine ---------------------------------------------------------------------------------------
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
# Scrapy's dupefilter with its seen set in ~17 bytes per request instead of ~170: a long crawl's
# memory does not grow with the pages it fetched (crawler/dupefilter.py, docs/scale.md).
DUPEFILTER_CLASS = "crawler.dupefilter.CompactDupeFilter"
# Outputs of one callback processed at once. Scrapy starts that many asyncio tasks for every
# callback's output; ours yield an article and a few requests, and the pipelines are synchronous,
# so Scrapy's 100 only cost task creation: a third of the crawl's CPU (docs/scale.md).
CONCURRENT_ITEMS = 4
# Scrapy checks each response's callback for a generator that returns a value by reading and
# parsing its source (inspect + ast): its cache is keyed on the bound method, a new object per
# request, so it never hits and costs ~2% of the crawl's CPU (py-spy, docs/scale.md). ruff's
# checks and the tests stand in for the warning.
WARN_ON_GENERATOR_RETURN_VALUE = False
# With a job directory, Scrapy pickles every request to disk when it is scheduled (~6% of the
# crawl's CPU) for files only a graceful stop needs: these queues keep requests in memory and
# write them to the same files when the crawl stops, or when more than
# SCHEDULER_DISK_QUEUE_BUFFER requests wait in one queue (crawler/queues.py).
SCHEDULER_DISK_QUEUE = "crawler.queues.BufferedPickleLifoDiskQueue"
SCHEDULER_START_DISK_QUEUE = "crawler.queues.BufferedPickleFifoDiskQueue"
SCHEDULER_DISK_QUEUE_BUFFER = 1000
# Scrapy's stats collector without its deprecation wrapper on every access (crawler/stats.py).
STATS_CLASS = "crawler.stats.CrawlStatsCollector"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
