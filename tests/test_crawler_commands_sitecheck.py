"""``scrapy sitecheck``: the drift alarm on crawls of the replica portal.

A small replica (40 articles) is crawled; the check re-parses the archived articles and agrees
with the crawl's own fill rates. Then the replica's ``layout-drift`` fault renames the article
body's container (as a redesign does), the site is crawled again, and the check must fail and
name the body, while the crawl summary already shows the body's fill rate at zero.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.pipelines.fillrate import FILL_FIELDS
from storage.warc import WarcWriter
from tests.conftest import run_crawl, scrapy
from tests.encoded_warc import archive_articles, bomb, write_response
from tests.replica.process import ReplicaProcess


def sitecheck(archive: Path, *args: str):
    return scrapy("sitecheck", "baonamdinh", *args, "-s", f"ARCHIVE_DIR={archive}")


@pytest.fixture(scope="module")
def small_replica():
    with ReplicaProcess(articles=40) as replica:
        yield replica


def test_sitecheck_passes_when_nothing_changed_and_flags_a_renamed_body(small_replica,
                                                                        tmp_path):
    archive = tmp_path / "archive"
    first = run_crawl(small_replica.origin, archive)
    assert first.returncode == 0, first.log[-3000:]
    crawled = first.summary["fill_rates"]["baonamdinh"]
    assert crawled["articles"] == 40 and crawled["rates"]["body"] == 1.0
    assert "fill rates        baonamdinh (40 articles): title 100%, body 100%" in first.log

    check = sitecheck(archive)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "40 latest archived articles; compared with last crawl" in check.stdout
    baseline = archive / "sitecheck" / "baonamdinh.json"
    assert baseline.exists()
    # Nothing changed on the site: a second check compares with the first and passes.
    again = sitecheck(archive)
    assert again.returncode == 0 and "compared with previous check" in again.stdout

    small_replica.set_faults(["layout-drift"])
    try:
        second = run_crawl(small_replica.origin, archive, INCREMENTAL="False")
    finally:
        small_replica.set_faults([])
    assert second.returncode == 0, second.log[-3000:]
    assert second.summary["fill_rates"]["baonamdinh"]["rates"]["body"] == 0.0
    assert second.summary["fallback_by_site"] == {"baonamdinh": 40}

    drifted = sitecheck(archive)
    assert drifted.returncode == 1
    assert "fill rate fell by more than 10% for body" in drifted.stderr
    fell = [line.split()[0] for line in drifted.stdout.splitlines() if line.endswith("FELL")]
    assert fell == ["body"]
    assert set(FILL_FIELDS) <= {line.split()[0] for line in drifted.stdout.splitlines()[1:]}
    # The baseline is kept, so the alarm repeats until the profile is fixed or accepted.
    assert sitecheck(archive).returncode == 1
    assert sitecheck(archive, "--accept").returncode == 0
    assert sitecheck(archive).returncode == 0


def test_sitecheck_says_what_is_missing(tmp_path):
    empty = sitecheck(tmp_path)
    assert empty.returncode == 2 and "no archived baonamdinh article" in empty.stderr
    unknown = scrapy("sitecheck", "nosuchsite", "-s", f"ARCHIVE_DIR={tmp_path}")
    assert unknown.returncode == 2 and "unknown site 'nosuchsite'" in unknown.stderr


def test_sitecheck_reads_every_content_encoding_and_skips_bombs(tmp_path):
    archive = tmp_path / "archive"
    archived = archive_articles(archive / "warc", "https://baonamdinh.vn", bomb_size=4_000_000)
    pages = [entry for entry in archived if entry.article is not None]
    bombs = [entry for entry in archived if entry.article is None]

    check = sitecheck(archive, "-s", "DOWNLOAD_MAXSIZE=1048576")
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"{len(pages)} latest archived articles" in check.stdout, check.stdout
    assert "  body        100%" in check.stdout, check.stdout
    for entry in bombs:
        line = next(line for line in check.stdout.splitlines() if entry.url in line)
        assert line.startswith("  skipped") and "DOWNLOAD_MAXSIZE (1048576 bytes)" in line, line
        assert entry.pointer.record_id in line, line

    # Nothing readable: no rates (they would all "fall" to 0%), and no baseline written.
    only_bomb = tmp_path / "only-bomb"
    with WarcWriter(only_bomb / "warc") as writer:
        write_response(writer, bombs[0].url, bomb(bombs[0].encoding, 4_000_000),
                       bombs[0].encoding)
    unreadable = sitecheck(only_bomb, "-s", "DOWNLOAD_MAXSIZE=1048576")
    assert unreadable.returncode == 2
    assert "none of the 1 latest archived baonamdinh articles could be read" in unreadable.stderr
    assert bombs[0].url in unreadable.stdout
    assert not (only_bomb / "sitecheck").exists()


def test_a_page_the_parser_fails_on_is_listed_and_the_check_goes_on(tmp_path, monkeypatch):
    from crawler.commands import sitecheck as command
    from spiders.baonamdinh import BaoNamDinhSpider

    archive = tmp_path / "archive"
    pages = [entry for entry in archive_articles(archive / "warc", "https://baonamdinh.vn")]
    broken = pages[1].url
    parse = command.extract_with_profile

    def failing_on_one(payload, url, *args, **kwargs):
        if url == broken:
            raise RecursionError("maximum recursion depth exceeded")  # a parser bug on one page
        return parse(payload, url, *args, **kwargs)

    monkeypatch.setattr(command, "extract_with_profile", failing_on_one)
    records, skipped = command.parse_latest(archive / "warc", BaoNamDinhSpider.profile, 50,
                                            1 << 20)
    assert len(records) == len(pages) - 1
    [line] = skipped
    assert broken in line and "could not be parsed" in line and "RecursionError" in line
