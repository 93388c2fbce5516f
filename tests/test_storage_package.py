"""`scrapy package` leaves a WACZ or nothing: a killed run's leftovers never look like a result."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from storage.package import write_wacz
from storage.partial import remove_leftovers
from storage.warc import WarcWriter
from tests.conftest import PROJECT_ROOT


def archive_of(directory: Path, pages: int, body_size: int, prefix: str = "news") -> Path:
    """A WARC directory with ``pages`` responses of ``body_size`` incompressible bytes."""
    warc = directory / "warc"
    with WarcWriter(warc, prefix=prefix, hostname="box", compression_level=0) as writer:
        for number in range(pages):
            writer.write_exchange(
                url=f"https://baonamdinh.vn/{prefix}/{number}.jpg", method="GET",
                request_headers=[("Host", "baonamdinh.vn")], request_body=b"",
                protocol="HTTP/1.1", status=200, reason="OK",
                response_headers=[("Content-Type", "image/jpeg")], body=os.urandom(body_size),
            )
    return warc


def package_command(archive: Path, output: Path) -> list[str]:
    return [sys.executable, "-m", "scrapy", "package", "--output", str(output),
            "-s", f"ARCHIVE_DIR={archive}"]


def test_a_killed_package_leaves_no_wacz_and_the_next_run_cleans_up(tmp_path):
    archive = tmp_path / "archive"
    archive_of(archive, pages=12, body_size=8 << 20)
    output = tmp_path / "out" / "news.wacz"
    output.parent.mkdir()
    process = subprocess.Popen(package_command(archive, output), cwd=PROJECT_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (output.parent / ".news.wacz.partial").exists():
        assert process.poll() is None, "package ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)  # the command's own process, mid-write
    process.wait()
    leftovers = sorted(p.name for p in output.parent.iterdir())
    assert leftovers and not output.exists()
    assert all(name.startswith(".news.wacz.") for name in leftovers)  # hidden, named as partial

    result = subprocess.run(package_command(archive, output), cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "left by an interrupted run" in result.stdout
    assert sorted(p.name for p in output.parent.iterdir()) == ["news.wacz"]
    with zipfile.ZipFile(output) as wacz:
        assert sum(name.startswith("archive/") for name in wacz.namelist()) == 1
        assert wacz.testzip() is None


def test_leftovers_of_a_live_run_are_left_alone(tmp_path):
    output = tmp_path / "news.wacz"
    partial = tmp_path / ".news.wacz.partial"
    legacy = tmp_path / "news.wacz.partial"
    live = tmp_path / f".news.wacz.{os.getppid()}.abcd.tmp"
    dead = tmp_path / ".news.wacz.999999999.abcd.tmp"
    for path in (partial, legacy):
        path.write_bytes(b"PK")
    for scratch in (live, dead):
        scratch.mkdir()
        (scratch / "sorted.cdxj").write_text("x")
    unrelated = tmp_path / ".news.wacz.notes"
    unrelated.write_text("mine")
    assert sorted(remove_leftovers(output)) == sorted([partial, legacy, dead])
    assert live.exists() and unrelated.exists()
    assert not partial.exists() and not legacy.exists() and not dead.exists()


def test_a_wacz_is_written_under_its_name_only_once_it_validates(tmp_path):
    warc = archive_of(tmp_path, pages=2, body_size=1000)
    output = tmp_path / "news.wacz"
    counts = write_wacz(sorted(warc.glob("*.warc.gz")), [], output, title="t", warc_root=warc)
    assert counts.warc_files == 1 and counts.pages == 0 and counts.index.lines >= 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["news.wacz", "warc"]


def wacz_index_lines(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as wacz:
        return gzip.decompress(wacz.read("indexes/index.cdx.gz")).decode().splitlines()


def scrapy_in(archive: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "scrapy", *args, "-s", f"ARCHIVE_DIR={archive}"],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_package_copies_a_current_index_and_indexes_again_when_files_changed(tmp_path):
    archive = tmp_path / "archive"
    archive_of(archive, pages=6, body_size=2000)
    unindexed = scrapy_in(archive, "package", "--output", str(tmp_path / "unindexed.wacz"))
    assert "index is" not in unindexed.stdout
    scrapy_in(archive, "index")
    index = (archive / "index.cdxj").read_text().splitlines()
    reused = scrapy_in(archive, "package", "--output", str(tmp_path / "reused.wacz"))
    assert "Its index is" in reused.stdout and "current" in reused.stdout
    # The same lines either way, and the WACZ validates (package refuses one that does not).
    assert wacz_index_lines(tmp_path / "reused.wacz") == index
    assert wacz_index_lines(tmp_path / "unindexed.wacz") == index
    # Another crawl's file: the index no longer covers the archive, so package indexes it all.
    archive_of(archive, pages=2, body_size=2000, prefix="later")
    stale = scrapy_in(archive, "package", "--output", str(tmp_path / "stale.wacz"))
    assert "Its index is" not in stale.stdout
    lines = wacz_index_lines(tmp_path / "stale.wacz")
    assert len(lines) == len(index) + 2 and set(index) < set(lines)
    # An index edited by hand is not taken as current either.
    scrapy_in(archive, "index")
    with (archive / "index.cdxj").open("a") as edited:
        edited.write(index[0] + "\n")
    again = scrapy_in(archive, "package", "--output", str(tmp_path / "edited.wacz"))
    assert "Its index is" not in again.stdout
    assert len(wacz_index_lines(tmp_path / "edited.wacz")) == len(index) + 2
