"""``scrapy jobs``: the job history, and crawls far below the site's usual flagged.

A good crawl of the replica, then a night on which one section of the portal is broken (its
listing and articles answer 500): the broken night is flagged in the log (WARNING) and in
``scrapy jobs`` (and ``--failed``), the good one is not. The flag rules themselves are checked
on summaries (``crawler/scheduling/health.py``).
"""

from __future__ import annotations

import pytest

from crawler.scheduling.health import flag_crawl
from tests.conftest import run_crawl, scrapy
from tests.replica.content import build_site
from tests.replica.process import ReplicaProcess

ARTICLES = 40


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """A good crawl, then a full recrawl with one section broken; both into one archive."""
    archive = tmp_path_factory.mktemp("jobs") / "archive"
    section = build_site(articles=ARTICLES).sections[1].id
    with ReplicaProcess(articles=ARTICLES) as replica:
        good = run_crawl(replica.origin, archive)
        replica.set_faults([f"500@^/channel/{section}/"], burst=1000)
        broken = run_crawl(replica.origin, archive, INCREMENTAL="False")
    return archive, good, broken


def test_a_night_with_a_broken_section_is_flagged_in_the_log_and_in_scrapy_jobs(nights):
    archive, good, broken = nights
    assert good.returncode == 0, good.log[-3000:]
    assert "flagged" not in good.log
    assert broken.returncode == 3
    assert "WARNING: Crawl of baonamdinh flagged: failure spike" in broken.log
    listed = scrapy("jobs", "-s", f"ARCHIVE_DIR={archive}")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[2].split()[2:5] == ["baonamdinh", "incomplete", "3"], listed.stdout
    assert lines[3].startswith("    FLAGGED: incomplete: 1 discovery requests failed")
    assert lines[4].startswith("    FLAGGED: failure spike:")
    assert "http_500" in lines[5]
    good_line = lines[-1]
    assert good_line.split()[2:5] == ["baonamdinh", "complete", "0"]
    assert good_line.split()[7] == str(ARTICLES)  # new articles
    failed = scrapy("jobs", "--failed", "-s", f"ARCHIVE_DIR={archive}").stdout
    assert "incomplete" in failed and " complete " not in failed


def test_scrapy_jobs_refuses_an_unknown_site_in_one_line(nights):
    archive, _, _ = nights
    unknown = scrapy("jobs", "--site", "nosuch", "-s", f"ARCHIVE_DIR={archive}")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (f"scrapy jobs: --site nosuch: no crawl of it in the job "
                                      f"history of {archive / 'articles.sqlite3'}")


def summary(new=5, failed=0, dropped=0, pages=100, started="2025-01-01T00:00:00+00:00",
            body=1.0, status="complete"):
    return {"status": status, "articles_new": new, "failed_urls": failed,
            "articles_dropped": dropped, "pages_fetched": pages, "started": started,
            "fill_rates": {"s": {"articles": 20, "rates": {"title": 1.0, "body": body}}}}


def night(day: int, **kwargs) -> dict:
    return summary(started=f"2025-01-{day:02d}T19:30:00+00:00", **kwargs)


def test_no_new_article_three_nights_running_is_flagged_but_not_two():
    usual = [night(d) for d in (4, 3, 2, 1)]
    two = flag_crawl("s", night(6, new=0), [night(5, new=0), *usual])
    assert two == []
    three = flag_crawl("s", night(7, new=0), [night(6, new=0), night(5, new=0), *usual])
    assert three == ["no new article in the last 3 crawls"]
    # Three crawls within an hour are not three nights.
    quick = [summary(new=0, started="2025-01-07T19:00:00+00:00"),
             summary(new=0, started="2025-01-07T18:30:00+00:00"), *usual]
    assert flag_crawl("s", summary(new=0, started="2025-01-07T19:30:00+00:00"), quick) == []


def test_a_fill_rate_drop_and_a_failure_spike_are_flagged():
    usual = [night(d, failed=2) for d in (4, 3, 2, 1)]
    assert flag_crawl("s", night(5, failed=3), usual) == []
    assert flag_crawl("s", night(5, body=0.5), usual) == ["fill rate drop: body 100% -> 50%"]
    spike = flag_crawl("s", night(5, failed=12), usual)
    assert spike == ["failure spike: 12 failed or dropped (usually 2)"]
    # A first crawl has no usual: a large share of its pages failing is the spike.
    assert flag_crawl("s", summary(failed=30, pages=100), [])[0].startswith("failure spike")
    assert flag_crawl("s", summary(status="failed"), usual)[0].startswith("failed")
