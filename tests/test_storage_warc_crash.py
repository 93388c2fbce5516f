"""Crash safety, end to end: a real `scrapy crawl` killed with SIGKILL mid-write, then run again.

The next run must find the `.open` file, keep every complete record, move the partial one to
quarantine, close and rename the file and say so in its log; `warcio check` then passes on every
WARC file of the archive, and the quarantine holds exactly the bytes the WARC files do not.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import LOOPBACK_SETTINGS, PROJECT_ROOT, run_crawl
from tests.replica.process import ReplicaProcess


@pytest.fixture(scope="module")
def portal() -> Iterator[ReplicaProcess]:
    """A replica big enough that a crawl takes a few seconds."""
    with ReplicaProcess(articles=240) as replica:
        yield replica


def crawl_and_kill(origin: str, archive: Path, open_bytes: int) -> tuple[str, bytes]:
    """Start a crawl, SIGKILL it once its open WARC file holds ``open_bytes``; return the file."""
    command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh", "-a", f"base_url={origin}/",
               "-s", f"ARCHIVE_DIR={archive}"]
    for name, value in LOOPBACK_SETTINGS.items():
        command += ["-s", f"{name}={value}"]
    before = set((archive / "warc").glob("*.open")) if (archive / "warc").exists() else set()
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while True:
            current = set((archive / "warc").glob("*.open")) - before
            if current and next(iter(current)).stat().st_size >= open_bytes:
                break
            assert process.poll() is None, "the crawl ended before it could be killed"
            assert time.monotonic() < deadline, "the crawl wrote too little to be killed"
            time.sleep(0.005)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    (open_file,) = current
    return open_file.name, open_file.read_bytes()


def readable_records(data: bytes, path: Path) -> int:
    """How many records warcio reads from ``data`` before it stops or fails."""
    path.write_bytes(data)
    count = 0
    try:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                record.content_stream().read()
                count += 1
    except Exception:  # noqa: BLE001 - a cut gzip member or record is what we expect here
        pass
    return count


def test_crawls_killed_at_two_moments_leave_only_valid_files(portal, tmp_path):
    archive = tmp_path / "archive"
    killed = [crawl_and_kill(portal.origin, archive, 60_000)]
    killed.append(crawl_and_kill(portal.origin, archive, 400_000))
    final = run_crawl(portal.origin, archive)
    assert final.returncode == 0, final.log[-4000:]

    warc_dir = archive / "warc"
    assert not list(warc_dir.glob("*.open"))
    files = sorted(warc_dir.glob("*.warc.gz"))
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, files)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    report_path = warc_dir / "recovery-report.jsonl"
    report = report_path.read_text().splitlines() if report_path.exists() else []
    for name, snapshot in killed:
        recovered = warc_dir / name.removesuffix(".open")
        kept = recovered.read_bytes()
        assert snapshot.startswith(kept), "a crash damages only the end"
        # The record the kill interrupted is quarantined, not dropped: no byte is lost.
        spans = [line for line in map(json.loads, report) if line["file"] == name]
        assert kept + b"".join((warc_dir / s["quarantine"]).read_bytes() for s in spans) == snapshot
        with recovered.open("rb") as stream:
            kept_records = sum(1 for _ in ArchiveIterator(stream))
        # Nothing complete is lost: at most the one record the kill interrupted.
        assert kept_records >= readable_records(snapshot, tmp_path / "snapshot") - 1
    # The second run recovered the first run's file, the third the second's, and said so.
    assert f"Recovered {archive / 'warc' / killed[1][0]}" in final.log
    assert final.summary["finish_reason"] == "finished"
