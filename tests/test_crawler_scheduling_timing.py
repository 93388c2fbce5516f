"""The runner's timing on an injected clock: due, not due, overlap, catch-up, restart.

The schedule and the runner's state are real files in a temporary archive; scrapyd is stood in
for by `QueueOfJobs` (its two calls, ``schedule.json`` and ``listjobs.json``): the real one is
``test_crawler_scheduling_scrapyd.py``'s.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crawler.scheduling.book import Entry, ScheduleBook
from crawler.scheduling.runner import ScheduleRunner
from crawler.scheduling.scrapyd import ScrapydError, ScrapydJob
from crawler.scheduling.timing import Every, due_time

UTC = timezone.utc
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


class QueueOfJobs:
    """scrapyd's job list as the runner sees it: jobs posted stay running until `finish`."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, str, dict, dict]] = []
        self.states: dict[str, ScrapydJob] = {}
        self.down = False

    def __call__(self, url: str) -> QueueOfJobs:
        return self

    def jobs(self) -> dict[str, ScrapydJob]:
        if self.down:
            raise ScrapydError("scrapyd http://127.0.0.1:6800/: cannot connect (refused)")
        return dict(self.states)

    def schedule(self, spider, jobid, args, settings) -> str:
        if self.down:
            raise ScrapydError("scrapyd http://127.0.0.1:6800/: cannot connect (refused)")
        self.posted.append((spider, jobid, args, settings))
        self.states[jobid] = ScrapydJob(jobid, spider, "running")
        return jobid

    def finish(self, jobid: str) -> None:
        self.states[jobid] = ScrapydJob(jobid, self.states[jobid].spider, "finished")


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def entry(entry_id: str, host: str | None = None, every: str = "daily 02:30", **kwargs) -> Entry:
    return Entry(id=entry_id, spider=kwargs.pop("spider", entry_id), every=every,
                 timezone="Asia/Ho_Chi_Minh", host=host or f"{entry_id}.vn",
                 created="2025-01-01T00:00:00+00:00", **kwargs)


@pytest.fixture
def setup(tmp_path):
    """A schedule in a temporary archive, a stand-in scrapyd, a runner at 2025-01-01 00:00."""
    book = ScheduleBook(tmp_path / "schedule")
    scrapyd = QueueOfJobs()
    clock = Clock(datetime(2025, 1, 1, tzinfo=UTC))

    def runner(stagger: float = 0.0) -> ScheduleRunner:
        return ScheduleRunner(book, tmp_path, default_scrapyd="http://127.0.0.1:6800/",
                              project="p", stagger=stagger, clock=clock, client=scrapyd,
                              forward={"CONTACT_URL": "mailto:a@b.example"})

    return book, scrapyd, clock, runner


def at(text: str) -> datetime:
    """A time in Vietnam (+07:00), where the schedules' HH:MM are read."""
    return datetime.fromisoformat(text).replace(tzinfo=HANOI)


def test_schedules_parse_and_refuse_in_one_line():
    assert Every.parse("Daily  2:30").at.hour == 2
    assert Every.parse("weekly sunday 03:00").weekday == 6
    assert Every.parse("every 6 hours").minutes == 360
    for bad in ("daily 24:00", "nightly", "hourly :75", "every 0 minutes"):
        with pytest.raises(ValueError, match="--every"):
            Every.parse(bad)


def test_occurrences_are_read_in_the_entry_zone():
    daily = Every.parse("daily 02:30")
    # 02:30 in Vietnam is 19:30 UTC the day before.
    assert daily.next_after(datetime(2025, 1, 1, tzinfo=UTC), HANOI) == \
        datetime(2025, 1, 1, 19, 30, tzinfo=UTC)
    assert daily.next_after(at("2025-01-02T02:30"), HANOI) == at("2025-01-03T02:30")
    weekly = Every.parse("weekly mon 03:00")
    assert weekly.next_after(at("2025-01-01T00:00"), HANOI) == at("2025-01-06T03:00")


def test_not_due_before_the_time_due_at_it_and_once_after_downtime():
    daily = Every.parse("daily 02:30")
    last = at("2025-01-01T02:30")
    assert due_time(daily, HANOI, last, at("2025-01-02T02:29")) == (None, 0)
    assert due_time(daily, HANOI, last, at("2025-01-02T02:30")) == (at("2025-01-02T02:30"), 1)
    # Four nights down: due once, for the latest night, the others counted as missed.
    assert due_time(daily, HANOI, last, at("2025-01-05T09:00")) == (at("2025-01-05T02:30"), 4)


def test_a_due_entry_is_launched_once_with_the_archive_and_forwarded_settings(setup, tmp_path):
    book, scrapyd, clock, runner = setup
    book.add(entry("baonamdinh", args={"since": "2025-01-01"}, settings={"LOG_LEVEL": "INFO"}))
    clock.now = at("2025-01-02T02:29")
    assert runner().tick().launched == []  # not due
    clock.now = at("2025-01-02T02:30:10")
    assert runner().tick().launched == [("baonamdinh", "baonamdinh-20250101T193000Z")]
    spider, job, args, settings = scrapyd.posted[0]
    assert (spider, args) == ("baonamdinh", {"since": "2025-01-01"})
    assert settings == {"ARCHIVE_DIR": str(tmp_path.resolve()),
                        "CONTACT_URL": "mailto:a@b.example", "LOG_LEVEL": "INFO"}
    scrapyd.finish(job)
    clock.now += timedelta(hours=3)
    assert runner().tick().launched == []  # launched for tonight already


def test_overlap_waits_for_the_running_crawl_then_catches_up_once(setup):
    book, scrapyd, clock, runner = setup
    book.add(entry("baonamdinh"))
    clock.now = at("2025-01-02T02:31")
    first = runner().tick().launched[0][1]
    for night in ("2025-01-03T02:31", "2025-01-04T02:31"):  # a crawl running for two days
        clock.now = at(night)
        report = runner().tick()
        assert report.launched == []
        assert report.waiting == {"baonamdinh": "its last crawl is still running"}
    scrapyd.finish(first)
    clock.now = at("2025-01-04T09:00")
    assert runner().tick().launched == [("baonamdinh", "baonamdinh-20250103T193000Z")]
    assert book.state()["entries"]["baonamdinh"]["missed"] == 2
    clock.now += timedelta(minutes=5)
    assert len(runner().tick().launched) == 0
    assert len(scrapyd.posted) == 2


def test_a_crawl_of_the_site_started_by_hand_counts_as_running(setup):
    book, scrapyd, clock, runner = setup
    book.add(entry("baonamdinh"))
    scrapyd.states["by-hand"] = ScrapydJob("by-hand", "baonamdinh", "pending")
    clock.now = at("2025-01-02T03:00")
    assert runner().tick().waiting == {"baonamdinh": "its last crawl is still running"}


def test_one_host_gets_one_crawl_at_a_time_and_launches_are_staggered(setup):
    book, scrapyd, clock, runner = setup
    book.add(entry("baonamdinh", host="baonamdinh.vn"))
    book.add(entry("portal-baonamdinh.vn", host="baonamdinh.vn", spider="portal",
                   args={"url": "https://baonamdinh.vn/"}))
    book.add(entry("baohanam", host="baohanam.com.vn", spider="portal"))
    book.add(entry("dantri", host="dantri.com.vn"))
    clock.now = at("2025-01-02T02:30")
    report = runner(stagger=60).tick()
    assert report.launched == [("baohanam", "baohanam-20250101T193000Z")]
    assert report.waiting["dantri"].startswith("staggered")
    clock.now += timedelta(seconds=30)
    assert runner(stagger=60).tick().launched == []
    clock.now += timedelta(seconds=30)
    assert [e for e, _ in runner(stagger=60).tick().launched] == ["baonamdinh"]
    clock.now += timedelta(seconds=60)
    report = runner(stagger=60).tick()
    assert [e for e, _ in report.launched] == ["dantri"]
    assert report.waiting == {"portal-baonamdinh.vn": "another crawl of baonamdinh.vn is running"}
    scrapyd.finish("baonamdinh-20250101T193000Z")
    clock.now += timedelta(seconds=60)
    assert [e for e, _ in runner(stagger=60).tick().launched] == ["portal-baonamdinh.vn"]


def test_a_restarted_runner_posts_a_launch_it_did_not_confirm_once(setup):
    book, scrapyd, clock, runner = setup
    book.add(entry("baonamdinh"))
    clock.now = at("2025-01-02T02:30")
    # The runner recorded the launch, then was killed before scrapyd got it.
    scrapyd.down = True
    book.save_state({"last_launch": clock.now.isoformat(), "entries": {"baonamdinh": {
        "last_due": at("2025-01-02T02:30").isoformat(), "job": "baonamdinh-20250101T193000Z",
        "posted": False}}})
    scrapyd.down = False
    clock.now = at("2025-01-02T02:35")
    assert runner().tick().launched == [("baonamdinh", "baonamdinh-20250101T193000Z")]
    assert [job for _, job, _, _ in scrapyd.posted] == ["baonamdinh-20250101T193000Z"]
    # Another restart: scrapyd knows the job; nothing is posted again.
    clock.now = at("2025-01-02T02:40")
    assert runner().tick().launched == []
    assert len(scrapyd.posted) == 1
    assert book.state()["entries"]["baonamdinh"]["posted"] is True


def test_scrapyd_down_consumes_no_due_time(setup):
    book, scrapyd, clock, runner = setup
    book.add(entry("baonamdinh"))
    scrapyd.down = True
    clock.now = at("2025-01-02T02:30")
    report = runner().tick()
    assert report.launched == [] and report.errors
    assert report.waiting == {"baonamdinh": "scrapyd unreachable"}
    scrapyd.down = False
    clock.now = at("2025-01-02T02:45")
    assert [e for e, _ in runner().tick().launched] == ["baonamdinh"]


def test_an_entry_added_later_is_not_due_for_times_before_it(setup):
    book, scrapyd, clock, runner = setup
    book.add(Entry(id="baonamdinh", spider="baonamdinh", every="daily 02:30",
                   timezone="Asia/Ho_Chi_Minh", host="baonamdinh.vn",
                   created=at("2025-01-05T10:00").isoformat()))
    clock.now = at("2025-01-05T12:00")
    assert runner().tick().launched == []
    clock.now = at("2025-01-06T02:30")
    assert len(runner().tick().launched) == 1
