"""Crash safety, end to end: a real `scrapy crawl` killed with SIGKILL mid-write, then run again.

The next run must find the `.open` file, keep every complete record, move the partial one to
quarantine, close and rename the file and say so in its log; `warcio check` then passes on every
WARC file of the archive, and the quarantine holds exactly the bytes the WARC files do not.

A SIGKILL leaves whole records (the writer hands each record pair to one `write` call), so each
killed file is then cut inside its last record, as a power cut that lost the end of that write
would leave it: recovery has a partial record to quarantine, and every complete one to keep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zlib
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
    cut_inside_last_record(open_file)
    return open_file.name, open_file.read_bytes()


def complete_members(data: bytes) -> list[tuple[int, int]]:
    """``(start, end)`` of each whole gzip member at the start of ``data`` (one record each).

    Read with zlib alone, which checks each member's CRC and length, not with the code under
    test; stops at the first member that is cut or damaged.
    """
    members, position = [], 0
    while position < len(data):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            inflater.decompress(data[position:])
        except zlib.error:
            break
        if not inflater.eof:
            break
        end = len(data) - len(inflater.unused_data)
        members.append((position, end))
        position = end
    return members


def cut_inside_last_record(path: Path) -> None:
    """Cut ``path`` in the middle of its last record, unless the kill already left one cut."""
    data = path.read_bytes()
    members = complete_members(data)
    assert members, "the killed crawl left no complete record"
    start, end = members[-1]
    if end == len(data):
        path.write_bytes(data[: (start + end) // 2])


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

    report = (warc_dir / "recovery-report.jsonl").read_text().splitlines()
    for name, snapshot in killed:
        recovered = warc_dir / name.removesuffix(".open")
        kept = recovered.read_bytes()
        assert snapshot.startswith(kept), "a crash damages only the end"
        # The record the kill interrupted is quarantined, not dropped: no byte is lost.
        spans = [line for line in map(json.loads, report) if line["file"] == name]
        assert kept + b"".join((warc_dir / s["quarantine"]).read_bytes() for s in spans) == snapshot
        # Nothing complete is lost: every whole record, and only the cut one is quarantined.
        members = complete_members(snapshot)
        assert kept == snapshot[: members[-1][1]] and len(spans) == 1
        with recovered.open("rb") as stream:
            assert sum(1 for _ in ArchiveIterator(stream)) == len(members)
    # The second run recovered the first run's file, the third the second's, and said so.
    assert f"Recovered {archive / 'warc' / killed[1][0]}" in final.log
    assert final.summary["finish_reason"] == "finished"
