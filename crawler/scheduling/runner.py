"""The schedule runner: starts the due crawls through scrapyd, restart-safe.

Each `ScheduleRunner.tick` reads the entries and its state afresh (``book.py``: an entry added or
removed while the runner runs counts at the next tick), asks each scrapyd in use for its jobs
(``listjobs.json``), lets ``timing.plan`` decide, and launches through ``schedule.json``.

An entry's crawl counts as still running while scrapyd lists as pending or running the job the
runner launched for it, or any job of its spider (a profiled site's crawl started by hand), or,
for the ``portal`` spider, a pending job with the same arguments. Its host is then busy.

Restart safety: a launch first writes its job id (``<entry id>-<occurrence, UTC>``) into the
state with ``posted: false``, then posts it with that id, then marks it posted. A runner killed
between the two finds, on restart, a job id scrapyd does not know and posts it again, with the
same id; a job scrapyd knows is never posted twice. A scrapyd that cannot be reached leaves its
entries as they are (logged): they are due at the next tick that reaches it.

``run`` ticks until stopped: every ``poll`` seconds, sooner when an entry falls due or a
staggered launch may go. Jobs get ``ARCHIVE_DIR`` (the schedule's archive, absolute), the
``forward`` settings (those given to ``scrapy schedule run -s``) and the entry's own settings.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from crawler.scheduling.book import Entry, ScheduleBook, parse_time
from crawler.scheduling.scrapyd import Scrapyd, ScrapydError, ScrapydJob
from crawler.scheduling.timing import EntryTiming, Every, next_due, plan

logger = logging.getLogger(__name__)

ACTIVE = ("pending", "running")


def utc_now() -> datetime:
    """The runner's clock by default."""
    return datetime.now(timezone.utc)


@dataclass
class TickReport:
    """What one tick did: jobs launched (entry id, job id), entries waiting and why, errors."""

    launched: list[tuple[str, str]] = field(default_factory=list)
    waiting: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class ScheduleRunner:
    """Launch the due entries of one archive's schedule (module docstring)."""

    def __init__(
        self, book: ScheduleBook, archive_dir: Path, *, default_scrapyd: str, project: str,
        forward: dict[str, str] | None = None, stagger: float = 30.0,
        clock: Callable[[], datetime] = utc_now,
        client: Callable[[str], Scrapyd] | None = None,
    ) -> None:
        self.book = book
        self.archive_dir = Path(archive_dir).resolve()
        self.default_scrapyd = default_scrapyd
        self.forward = dict(forward or {})
        self.stagger = timedelta(seconds=stagger)
        self.clock = clock
        self.client = client or (lambda url: Scrapyd(url, project))

    def tick(self) -> TickReport:
        """Launch what is due now; record it; return what was done."""
        now = self.clock()
        report = TickReport()
        entries = self.book.entries()
        state = self.book.state()
        states = state["entries"]
        # Entries removed since: their state goes.
        for gone in set(states) - {entry.id for entry in entries}:
            del states[gone]
        jobs: dict[str, dict[str, ScrapydJob] | None] = {}
        for url in {self._url(entry) for entry in entries}:
            try:
                jobs[url] = self.client(url).jobs()
            except ScrapydError as error:
                jobs[url] = None
                report.errors.append(str(error))
                logger.warning("%s: its scheduled crawls wait", error)
        timings, busy = [], set()
        for entry in entries:
            listed = jobs[self._url(entry)]
            if listed is None:
                report.waiting[entry.id] = "scrapyd unreachable"
                continue
            entry_state = states.setdefault(entry.id, {})
            if self._unconfirmed(entry, entry_state, listed, report):
                listed[entry_state["job"]] = ScrapydJob(entry_state["job"], entry.spider,
                                                        "pending")
            running = self._running(entry, entry_state, listed)
            if running:
                busy.add(entry.host)
            timings.append(EntryTiming(
                entry.id, Every.parse(entry.every), ZoneInfo(entry.timezone), entry.host,
                parse_time(entry_state.get("last_due")) or parse_time(entry.created),
                running))
        decided = plan(timings, busy, now, parse_time(state["last_launch"]), self.stagger)
        report.waiting.update(decided.waiting)
        by_id = {entry.id: entry for entry in entries}
        for due in decided.launch:
            entry = by_id[due.id]
            job = self._launch(entry, states[entry.id], state, due.due, due.missed, now, report)
            if job:
                report.launched.append((entry.id, job))
        for entry_id, entry_state in states.items():
            entry_state["waiting"] = report.waiting.get(entry_id)
        state["last_tick"] = now.isoformat()
        self.book.save_state(state)
        return report

    def next_wake(self, poll: float) -> float:
        """Seconds until the next tick: ``poll`` at most, less when an entry falls due sooner."""
        now = self.clock()
        state = self.book.state()
        soonest = now + timedelta(seconds=poll)
        for entry in self.book.entries():
            after = parse_time(state["entries"].get(entry.id, {}).get("last_due")) or \
                parse_time(entry.created)
            soonest = min(soonest, next_due(Every.parse(entry.every), ZoneInfo(entry.timezone),
                                            after, now))
        last_launch = parse_time(state["last_launch"])
        waiting = any(entry.get("waiting", "") and "staggered" in entry["waiting"]
                      for entry in state["entries"].values())
        if waiting and last_launch:
            soonest = min(soonest, max(now, last_launch + self.stagger))
        return max(1.0, (soonest - now).total_seconds())

    def run(self, poll: float = 60.0, stop: threading.Event | None = None) -> None:
        """Tick until ``stop`` is set (or the process is stopped: the state is always whole)."""
        stop = stop or threading.Event()
        while not stop.is_set():
            self.tick()
            stop.wait(self.next_wake(poll))

    def _url(self, entry: Entry) -> str:
        return entry.scrapyd or self.default_scrapyd

    def _settings(self, entry: Entry) -> dict[str, str]:
        return {"ARCHIVE_DIR": str(self.archive_dir), **self.forward, **entry.settings}

    def _running(self, entry: Entry, entry_state: dict, listed: dict[str, ScrapydJob]) -> bool:
        """Whether a crawl of the entry is pending or running on its scrapyd."""
        own = listed.get(entry_state.get("job") or "")
        if own is not None and own.state in ACTIVE:
            return True
        for job in listed.values():
            if job.state not in ACTIVE or job.spider != entry.spider:
                continue
            # The portal spider crawls many sites: only a job with the entry's arguments counts
            # (scrapyd lists arguments of pending jobs only); a profiled site's any job does.
            if entry.spider != "portal" or job.id.startswith(f"{entry.id}-") or (
                    job.args and all(job.args.get(k) == v for k, v in entry.args.items())):
                return True
        return False

    def _unconfirmed(
        self, entry: Entry, entry_state: dict, listed: dict[str, ScrapydJob], report: TickReport
    ) -> bool:
        """Post again a launch a killed runner recorded but may not have posted; True if done."""
        job = entry_state.get("job")
        if not job or entry_state.get("posted") or job in listed:
            if job and job in listed:
                entry_state["posted"] = True
            return False
        try:
            self.client(self._url(entry)).schedule(entry.spider, job, entry.args,
                                                   self._settings(entry))
        except ScrapydError as error:
            report.errors.append(str(error))
            logger.error("Could not post job %s of %s again: %s", job, entry.id, error)
            return False
        entry_state["posted"] = True
        logger.info("Posted job %s of %s again (the runner stopped before scrapyd confirmed it)",
                    job, entry.id)
        report.launched.append((entry.id, job))
        return True

    def _launch(
        self, entry: Entry, entry_state: dict, state: dict, due: datetime, missed: int,
        now: datetime, report: TickReport,
    ) -> str | None:
        job = f"{entry.id}-{due.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
        before = dict(entry_state), state["last_launch"]
        entry_state.update(last_due=due.isoformat(), job=job, posted=False,
                           launched=now.isoformat(), missed=missed)
        state["last_launch"] = now.isoformat()
        self.book.save_state(state)  # the intent first: a restart knows the job id
        try:
            self.client(self._url(entry)).schedule(entry.spider, job, entry.args,
                                                   self._settings(entry))
        except ScrapydError as error:
            entry_state.clear()
            entry_state.update(before[0])
            state["last_launch"] = before[1]
            self.book.save_state(state)
            report.errors.append(str(error))
            report.waiting[entry.id] = "scrapyd refused the job"
            logger.error("Could not launch %s (due %s): %s", entry.id, due.isoformat(), error)
            return None
        entry_state["posted"] = True
        self.book.save_state(state)
        if missed > 1:
            logger.warning("Catching up %s once: %d due times passed since its last launch "
                           "(the runner was stopped, or its crawl ran long)", entry.id, missed)
        logger.info("Launched %s: scrapyd job %s (%s %s)", entry.id, job, entry.spider,
                    " ".join(f"{k}={v}" for k, v in entry.args.items()))
        return job
