"""``scrapy schedule add|list|remove|run``: recurring crawls of many portals through scrapyd.

* ``add SITE --every "daily 02:30" [--args k=v …] [--setting K=V …] [--scrapyd URL]
  [--timezone ZONE] [--id ID]`` - SITE is a profiled site (``scrapy list``), a catalogued
  portal id (crawled by the ``portal`` spider with ``site=ID``) or ``portal`` with
  ``--args url=…``. ``--every`` is ``crawler/scheduling/timing.py``'s; times are read in
  ``--timezone`` (default ``Asia/Ho_Chi_Minh``: the portals' night). ``--args`` are spider
  arguments, ``--setting`` Scrapy settings of this entry's jobs.
* ``list`` - the entries, when each is next due, its last launch and why it waits.
* ``remove ID`` - drop an entry (a crawl it started runs on).
* ``run [--once] [--stagger SECONDS] [--poll SECONDS]`` - the runner
  (``crawler/scheduling/runner.py``): ``--once`` for a cron line, otherwise a loop for a
  systemd service. One runner per schedule (a lock).

The schedule lives in ``<ARCHIVE_DIR>/schedule/`` (``crawler/scheduling/book.py``); every job
writes into that ``ARCHIVE_DIR`` (absolute), so one store holds every site's articles and the job
history (``scrapy jobs``). The scrapyd URL and project default to ``scrapy.cfg``'s ``[deploy]``
target. Settings given to ``run`` with ``-s`` (``CONTACT_URL``, say) are passed to every job.
Bad input is one line, exit code 2 (``crawler/cli.py``).
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import threading
from datetime import datetime, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scrapy.exceptions import UsageError
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.conf import get_config
from scrapy.utils.log import configure_logging

from crawler.cli import InputError, OfflineCommand, one_line_errors
from crawler.paths import ArchivePaths
from crawler.scheduling.book import Entry, ScheduleBook, ScheduleError, parse_time
from crawler.scheduling.runner import ScheduleRunner
from crawler.scheduling.scrapyd import DEFAULT_URL, ScrapydError
from crawler.scheduling.timing import Every, next_due
from crawler.sites import load_profile, site_ids
from spiders.catalogue import CatalogueError, catalogue_entry, load_catalogue

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
ENTRY_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
ACTIONS = ("add", "list", "remove", "run")
# The runner's own logging is not passed on to the jobs (scrapyd gives each its log file).
NOT_FORWARDED = ("ARCHIVE_DIR", "LOG_ENABLED", "LOG_LEVEL", "LOG_FILE", "LOG_STDOUT")


class Command(OfflineCommand):
    def syntax(self) -> str:
        return ('add SITE --every "daily 02:30" [--args k=v …] [--setting K=V …] '
                "[--scrapyd URL] | list | remove ID | run [--once]")

    def short_desc(self) -> str:
        return "Recurring crawls through scrapyd: add, list, remove, run the runner"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--every", help='when: "daily HH:MM", "weekly DAY HH:MM", '
                                            '"hourly :MM", "every N hours"')
        parser.add_argument("--args", nargs="+", default=[], metavar="k=v",
                            help="spider arguments of the crawl (add)")
        parser.add_argument("--setting", action="append", default=[], metavar="K=V",
                            help="a Scrapy setting of this entry's jobs (add; repeatable)")
        parser.add_argument("--scrapyd", help="scrapyd URL (default: scrapy.cfg [deploy] url)")
        parser.add_argument("--timezone", default=DEFAULT_TIMEZONE,
                            help=f"zone of --every times (default {DEFAULT_TIMEZONE})")
        parser.add_argument("--id", dest="entry_id", help="the entry's id (default: the site)")
        parser.add_argument("--once", action="store_true",
                            help="run: launch what is due, then exit (for cron)")
        parser.add_argument("--stagger", type=float, default=30.0,
                            help="run: seconds between two launches (default 30)")
        parser.add_argument("--poll", type=float, default=60.0,
                            help="run: seconds between two looks at scrapyd (default 60)")

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args or args[0] not in ACTIONS:
            raise UsageError(f"give an action: {', '.join(ACTIONS)}")
        action, rest = args[0], args[1:]
        book = ScheduleBook(ArchivePaths.from_settings(self.settings).schedule_dir)
        try:
            getattr(self, f"_{action}")(book, rest, opts)
        except (ScheduleError, ScrapydError) as error:
            raise InputError(str(error)) from None

    def _add(self, book: ScheduleBook, rest: list[str], opts: argparse.Namespace) -> None:
        if len(rest) != 1:
            raise UsageError("add takes one SITE")
        if not opts.every:
            raise InputError('add needs --every, e.g. --every "daily 02:30"')
        try:
            Every.parse(opts.every)
        except ValueError as error:
            raise InputError(str(error)) from None
        try:
            ZoneInfo(opts.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(f"--timezone {opts.timezone!r}: not a time zone (Area/City, "
                             "or UTC)") from None
        spider_args = pairs(opts.args, "--args")
        spider, spider_args, host, default_id = resolve_site(rest[0], spider_args)
        entry_id = opts.entry_id or default_id
        if not ENTRY_ID_RE.match(entry_id):
            raise InputError(f"--id {entry_id!r}: lower-case letters, digits, '.', '-', '_'")
        if opts.scrapyd and urlsplit(opts.scrapyd).scheme not in ("http", "https"):
            raise InputError(f"--scrapyd {opts.scrapyd!r}: expected an http(s) URL")
        entry = Entry(
            id=entry_id, spider=spider, every=" ".join(opts.every.lower().split()),
            timezone=opts.timezone, host=host,
            created=datetime.now(timezone.utc).isoformat(), args=spider_args,
            settings=pairs(opts.setting, "--setting"), scrapyd=opts.scrapyd or "")
        book.add(entry)
        print(f"Added {entry.id}: {describe(entry)}; next due "
              f"{_next(entry, {}, datetime.now(timezone.utc)):%Y-%m-%d %H:%M} UTC")

    def _list(self, book: ScheduleBook, rest: list[str], opts: argparse.Namespace) -> None:
        if rest:
            raise UsageError("list takes no arguments")
        entries, state = book.entries(), book.state()
        if not entries:
            print(f"No entries in {book.entries_file}")
            return
        now = datetime.now(timezone.utc)
        print(f"Schedule {book.entries_file}: {len(entries)} entries (times UTC)")
        for entry in entries:
            entry_state = state["entries"].get(entry.id, {})
            print(f"  {entry.id}: {describe(entry)}")
            print(f"      next due {_next(entry, entry_state, now):%Y-%m-%d %H:%M}"
                  + (f"; last launch {entry_state['launched'][:16].replace('T', ' ')} "
                     f"(job {entry_state['job']})" if entry_state.get("launched") else "")
                  + (f"; waiting: {entry_state['waiting']}" if entry_state.get("waiting")
                     else ""))

    def _remove(self, book: ScheduleBook, rest: list[str], opts: argparse.Namespace) -> None:
        if len(rest) != 1:
            raise UsageError("remove takes one ID")
        entry = book.remove(rest[0])
        print(f"Removed {entry.id} ({describe(entry)})")

    def _run(self, book: ScheduleBook, rest: list[str], opts: argparse.Namespace) -> None:
        if rest:
            raise UsageError("run takes no arguments")
        if opts.stagger < 0 or opts.poll <= 0:
            raise InputError("--stagger must be 0 or more, --poll more than 0 seconds")
        settings = self.settings.copy()
        settings.set("LOG_ENABLED", True, priority="cmdline")
        configure_logging(settings)
        url, project = deploy_target()
        runner = ScheduleRunner(
            book, ArchivePaths.from_settings(self.settings).root, default_scrapyd=url,
            project=project, forward=forwarded_settings(self.settings), stagger=opts.stagger)
        with book.runner_lock():
            if opts.once:
                report = runner.tick()
                for entry_id, job in report.launched:
                    print(f"launched {entry_id}: scrapyd job {job}")
                if report.errors:
                    self.exitcode = 1
                return
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            signal.signal(signal.SIGINT, lambda *_: stop.set())
            logging.getLogger(__name__).info(
                "Schedule runner on %s (%d entries), scrapyd %s", book.entries_file,
                len(book.entries()), url)
            runner.run(poll=opts.poll, stop=stop)


def pairs(items: list[str], option: str) -> dict[str, str]:
    """``k=v`` items as a dict; an item without ``=`` is refused."""
    result = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InputError(f"{option} {item!r}: expected NAME=VALUE")
        result[name] = value
    return result


def _host(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url!r}: expected an http(s) URL with a host")
    host = parts.hostname.removeprefix("www.")
    return f"{host}:{parts.port}" if parts.port else host


def resolve_site(site: str, args: dict[str, str]) -> tuple[str, dict[str, str], str, str]:
    """The spider, its arguments, the host it crawls and a default entry id for ``SITE``."""
    if site in site_ids():
        return site, args, _host(args.get("base_url") or load_profile(site).base_url), site
    try:
        catalogue = load_catalogue()
    except CatalogueError as error:
        raise InputError(str(error)) from None
    if site == "portal":
        if args.get("site"):
            try:
                home = catalogue_entry(args["site"])["home"]
            except CatalogueError as error:
                raise InputError(str(error)) from None
        elif args.get("url"):
            home = args["url"]
        else:
            raise InputError("portal needs --args url=<the portal's home page> or site=<a "
                             "catalogue id>")
        host = _host(args.get("base_url") or home)
        key = args.get("site_id") or args.get("site") or host.split(":")[0]
        return "portal", args, host, "portal-" + re.sub(r"[^a-z0-9_.-]", "-", key.lower())
    if site in catalogue:
        host = _host(args.get("base_url") or catalogue[site]["home"])
        return "portal", {"site": site, **args}, host, site
    raise InputError(f"unknown site {site!r}: not a spider of `scrapy list` ("
                     f"{', '.join(site_ids())}, portal) nor a catalogued portal id")


def describe(entry: Entry) -> str:
    """An entry in one line: spider, arguments, schedule, zone, scrapyd."""
    args = " ".join(f"-a {k}={v}" for k, v in entry.args.items())
    settings = " ".join(f"-s {k}={v}" for k, v in entry.settings.items())
    return (f"{entry.spider}{' ' + args if args else ''}{' ' + settings if settings else ''}, "
            f"{entry.every} ({entry.timezone}), host {entry.host}"
            + (f", scrapyd {entry.scrapyd}" if entry.scrapyd else ""))


def _next(entry: Entry, entry_state: dict, now: datetime) -> datetime:
    after = parse_time(entry_state.get("last_due")) or parse_time(entry.created)
    return next_due(Every.parse(entry.every), ZoneInfo(entry.timezone), after, now)


def deploy_target() -> tuple[str, str]:
    """scrapyd URL and project of scrapy.cfg's ``[deploy]`` section (defaults otherwise)."""
    config = get_config()
    url = config.get("deploy", "url", fallback=DEFAULT_URL)
    project = config.get("deploy", "project", fallback="provincial-news-archiver")
    return url, project


def forwarded_settings(settings) -> dict[str, str]:
    """The settings given on the command line (``-s``), for every job the runner launches."""
    cmdline = SETTINGS_PRIORITIES["cmdline"]
    return {name: str(settings[name]) for name in settings
            if settings.getpriority(name) == cmdline and name not in NOT_FORWARDED}
