"""When a scheduled crawl is due: pure functions of a schedule, the runner's state and a clock.

Nothing here reads a clock, a file or the network: the runner (``runner.py``) passes ``now``
(an aware datetime) and what it knows, and tests pass any time they like.

A schedule (``--every``) is one of::

    daily HH:MM            every day at HH:MM in the entry's time zone
    weekly DAY HH:MM       DAY: mon tue wed thu fri sat sun
    hourly [:MM]           every hour at minute MM (default :00)
    every N minutes|hours  every N minutes from midnight UTC (e.g. "every 6 hours")

An entry is *due* when an occurrence of its schedule lies after the last one it was launched for
(or after the entry was added) and at or before ``now``. However many occurrences passed while
the runner was down, the entry is due once, for the latest of them (`due_time` counts the
others as missed). `plan` decides which due entries start now:

* never an entry whose last crawl is still running (it waits, and starts once that crawl ends:
  several occurrences passed meanwhile still make one crawl);
* never two crawls of one host at once (a profiled site and a portal crawl of the same
  portal, two catalogue ids that moved to one domain): the second waits;
* at most one launch per ``stagger`` (a night's 60 portals due at 02:30 start one after the
  other, not at once), earliest due first, then by entry id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Occurrences counted as missed at most (an hourly schedule after a year's downtime).
MAX_MISSED = 10_000

_DAILY = re.compile(r"^daily\s+(\d{1,2}):(\d{2})$")
_WEEKLY = re.compile(r"^weekly\s+(" + "|".join(WEEKDAYS) + r")[a-z]*\s+(\d{1,2}):(\d{2})$")
_HOURLY = re.compile(r"^hourly(?:\s+:?(\d{1,2}))?$")
_INTERVAL = re.compile(r"^every\s+(\d+)\s*(m|min|mins|minutes?|h|hours?)$")


@dataclass(frozen=True)
class Every:
    """A parsed ``--every`` schedule (see the module docstring)."""

    kind: str  # daily, weekly, hourly, interval
    at: time = time(0, 0)
    weekday: int = 0
    minutes: int = 0  # of an interval
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> Every:
        """Parse a schedule; a ValueError says what is expected."""
        spec = " ".join(text.lower().split())
        if match := _DAILY.match(spec):
            return cls("daily", _clock_time(match[1], match[2], text), text=spec)
        if match := _WEEKLY.match(spec):
            return cls("weekly", _clock_time(match[2], match[3], text),
                       weekday=WEEKDAYS.index(match[1]), text=spec)
        if match := _HOURLY.match(spec):
            minute = int(match[1] or 0)
            if minute > 59:
                raise ValueError(f"--every {text!r}: minute {minute} is not within 0..59")
            return cls("hourly", time(0, minute), text=spec)
        if match := _INTERVAL.match(spec):
            minutes = int(match[1]) * (60 if match[2].startswith("h") else 1)
            if minutes < 1:
                raise ValueError(f"--every {text!r}: the interval must be at least a minute")
            return cls("interval", minutes=minutes, text=spec)
        raise ValueError(f"--every {text!r}: expected 'daily HH:MM', 'weekly DAY HH:MM', "
                         "'hourly [:MM]' or 'every N minutes|hours'")

    def next_after(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The first occurrence strictly after ``moment`` (aware), as an aware UTC datetime."""
        if self.kind == "interval":
            step = self.minutes * 60
            seconds = int(moment.timestamp()) // step * step + step
            return datetime.fromtimestamp(seconds, timezone.utc)
        if self.kind == "hourly":
            local = moment.astimezone(zone)
            candidate = local.replace(minute=self.at.minute, second=0, microsecond=0)
            candidate = candidate.astimezone(timezone.utc)
            return candidate if candidate > moment else candidate + timedelta(hours=1)
        day = moment.astimezone(zone).date()
        while True:
            if self.kind == "daily" or day.weekday() == self.weekday:
                candidate = _local(day, self.at, zone)
                if candidate > moment:
                    return candidate
            day += timedelta(days=1)

    def __str__(self) -> str:
        return self.text


def _clock_time(hours: str, minutes: str, text: str) -> time:
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f"--every {text!r}: {hours}:{minutes} is not a time of day")
    return time(int(hours), int(minutes))


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``day`` at ``at`` in ``zone``, in UTC (a time skipped by DST is read as zoneinfo does)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)


def due_time(
    every: Every, zone: ZoneInfo, after: datetime, now: datetime
) -> tuple[datetime | None, int]:
    """The latest occurrence in ``(after, now]`` and how many occurrences that span holds.

    ``after`` is the occurrence last launched (or when the entry was added). ``(None, 0)``:
    not due.
    """
    latest, count = None, 0
    moment = every.next_after(after, zone)
    while moment <= now and count < MAX_MISSED:
        latest, count = moment, count + 1
        moment = every.next_after(moment, zone)
    if count == MAX_MISSED:
        # Past the cap, jump to the last occurrence before now without counting each.
        while moment <= now:
            latest, moment = moment, every.next_after(moment, zone)
    return latest, count


@dataclass(frozen=True)
class EntryTiming:
    """What `plan` knows of one schedule entry."""

    id: str
    every: Every
    zone: ZoneInfo
    host: str
    after: datetime  # the occurrence last launched, or when the entry was added
    running: bool = False  # its last crawl is pending or running


@dataclass(frozen=True)
class Due:
    """An entry to launch now for its occurrence ``due`` (``missed``: occurrences it stands for)."""

    id: str
    due: datetime
    missed: int


@dataclass(frozen=True)
class Plan:
    """What to launch now, and why each other due entry waits."""

    launch: list[Due] = field(default_factory=list)
    waiting: dict[str, str] = field(default_factory=dict)


def plan(
    entries: list[EntryTiming], busy_hosts: set[str], now: datetime,
    last_launch: datetime | None, stagger: timedelta,
) -> Plan:
    """Decide which due entries start at ``now`` (rules in the module docstring).

    ``busy_hosts``: hosts a pending or running crawl is on (of any entry, or started by hand).
    """
    due = []
    for entry in entries:
        moment, count = due_time(entry.every, entry.zone, entry.after, now)
        if moment is not None:
            due.append((moment, entry.id, entry, count))
    result = Plan()
    busy = set(busy_hosts)
    for moment, _, entry, count in sorted(due, key=lambda item: item[:2]):
        if entry.running:
            result.waiting[entry.id] = "its last crawl is still running"
        elif entry.host in busy:
            result.waiting[entry.id] = f"another crawl of {entry.host} is running"
        elif last_launch is not None and now < last_launch + stagger:
            result.waiting[entry.id] = (
                f"staggered: next launch at {(last_launch + stagger):%Y-%m-%d %H:%M:%S} UTC")
        else:
            result.launch.append(Due(entry.id, moment, count))
            busy.add(entry.host)
            last_launch = now
    return result


def next_due(every: Every, zone: ZoneInfo, after: datetime, now: datetime) -> datetime:
    """When the entry is next due: now if an occurrence is pending, else the next one."""
    moment, _ = due_time(every, zone, after, now)
    return now if moment is not None else every.next_after(max(after, now), zone)
