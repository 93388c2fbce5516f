"""``scrapy crawl``: bad arguments and a missing contact stop it before anything is written;
a running crawl opens no port.

Scrapy logs its own start-up lines first; the refusal is the one line ``scrapy crawl: …``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.cli import InputError
from crawler.extensions.contact import ContactRequired
from spiders.baonamdinh import BaoNamDinhSpider
from tests.conftest import LOOPBACK_SETTINGS, PROJECT_ROOT, scrapy
from tests.test_crawler_commands_errors import snapshot

# A documentation address (RFC 5737): not loopback, and nobody answers there.
NOT_LOOPBACK = "http://192.0.2.1/"


@pytest.fixture()
def previous_crawl(tmp_path) -> Path:
    """An archive holding what the last crawl left: its failure report and summary."""
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "failures.jsonl").write_text('{"url": "http://x/9/"}\n', encoding="utf-8")
    (archive / "last-crawl.json").write_text('{"spider": "baonamdinh"}', encoding="utf-8")
    return archive


def crawl(archive: Path, *options: str, spider: str = "baonamdinh"):
    return scrapy("crawl", spider, "-s", f"ARCHIVE_DIR={archive}", *options, timeout=120)


def refusal(result) -> str:
    """The one line a refused crawl prints, after Scrapy's own start-up log."""
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("scrapy crawl:")]
    assert len(lines) == 1, result.stderr[-3000:]
    assert result.stderr.rstrip().endswith(lines[0])
    assert result.returncode == 2, result.stderr[-3000:]
    return lines[0]


@pytest.mark.parametrize("base_url", [
    "foo", "ftp://x", "http://", "http:///path", "http://x:99999/", "javascript:alert(1)",
    "//baonamdinh.vn/",
])
def test_base_url_that_is_not_an_http_url_is_refused(base_url):
    with pytest.raises(InputError, match="base_url"):
        BaoNamDinhSpider(base_url=base_url)


def test_bad_base_url_stops_the_crawl_before_anything_is_written(previous_crawl):
    before = snapshot(previous_crawl)
    line = refusal(crawl(previous_crawl, "-a", "base_url=foo"))
    assert "base_url='foo'" in line and "http" in line
    assert snapshot(previous_crawl) == before


def test_bad_date_argument_is_one_line_without_traceback(previous_crawl):
    before = snapshot(previous_crawl)
    line = refusal(crawl(previous_crawl, "-a", f"base_url={NOT_LOOPBACK}", "-a",
                         "since=2020-13-45"))
    assert "since='2020-13-45'" in line and "YYYY-MM-DD" in line
    assert snapshot(previous_crawl) == before


def test_unknown_spider_is_one_line_naming_it(previous_crawl):
    line = refusal(crawl(previous_crawl, spider="nosuchsite"))
    assert "nosuchsite" in line and "scrapy list" in line


def test_a_live_crawl_without_a_contact_stops_at_start(previous_crawl):
    before = snapshot(previous_crawl)
    # Bounded in case it does start: nobody answers at a documentation address.
    line = refusal(crawl(previous_crawl, "-a", f"base_url={NOT_LOOPBACK}",
                         "-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_ENABLED=False",
                         "-s", "CLOSESPIDER_TIMEOUT=5"))
    assert "-s CONTACT_URL=" in line
    assert snapshot(previous_crawl) == before


def contact_check(base_url: str | None, **settings):
    """Run the contact check of a crawl of ``base_url``."""
    settings = {"CONTACT_URL": project_settings.CONTACT_URL, "JOBDIR": "", **settings}
    crawler = get_crawler(BaoNamDinhSpider, settings_dict=settings)
    crawler.spider = BaoNamDinhSpider.from_crawler(crawler, base_url=base_url)
    # Checked, it has nothing to do during the crawl; a refusal raises InputError instead.
    with pytest.raises(NotConfigured):
        ContactRequired.from_crawler(crawler)


@pytest.mark.parametrize("base_url", [
    "http://127.0.0.1:8765/", "http://localhost:8765/", "http://[::1]:8765/",
    "http://127.5.0.1/",
])
def test_crawls_of_loopback_hosts_need_no_contact(base_url):
    contact_check(base_url)


@pytest.mark.parametrize("base_url", [None, NOT_LOOPBACK, "http://10.0.0.1/",
                                      "http://localhost.example.org/"])
def test_crawls_of_other_hosts_need_one(base_url):
    with pytest.raises(InputError, match="CONTACT_URL"):
        contact_check(base_url)
    contact_check(base_url, CONTACT_URL="mailto:archive@example.org")


def test_a_contact_that_is_not_a_url_is_refused():
    with pytest.raises(InputError, match="CONTACT_URL 'archive team'"):
        contact_check(NOT_LOOPBACK, CONTACT_URL="archive team")


def listening_ports(pid: int) -> list[int]:
    """The TCP ports process ``pid`` listens on (from /proc: its sockets in LISTEN state)."""
    sockets = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            sockets.add(target[len("socket:["):-1])
    ports = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in sockets:  # 0A: TCP_LISTEN
                ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="needs Linux /proc")
def test_a_running_crawl_listens_on_no_port(replica, tmp_path):
    log_path = tmp_path / "crawl.log"
    command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh",
               "-a", f"base_url={replica.origin}/", "-s", f"ARCHIVE_DIR={tmp_path / 'archive'}"]
    for name, value in {**LOOPBACK_SETTINGS, "DOWNLOAD_DELAY": "0.05"}.items():
        command += ["-s", f"{name}={value}"]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        # A progress line comes after the engine started, when Scrapy starts its servers.
        while "Progress:" not in log_path.read_text():
            assert process.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert listening_ports(process.pid) == []
        assert process.poll() is None, "the crawl ended before the check"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
