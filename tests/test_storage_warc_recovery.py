"""Tests for storage.warc_recovery: files cut at any byte come back valid, nothing whole is lost."""

from __future__ import annotations

import gzip
import logging
import subprocess
import sys
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from storage.warc import WarcWriter
from storage.warc_recovery import complete_prefix, recover_directory


def warcio_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    """Run ``warcio check`` as an archivist would."""
    return subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", *map(str, paths)], capture_output=True,
        text=True,
    )


def record_ids(path: Path) -> list[str]:
    """Return the ``WARC-Record-ID`` of every record in ``path``."""
    with path.open("rb") as stream:
        return [r.rec_headers.get_header("WARC-Record-ID") for r in ArchiveIterator(stream)]


def write_unfinished_file(directory: Path, pages: int = 4) -> tuple[WarcWriter, Path, list[int]]:
    """Write ``pages`` exchanges and leave the file open; return it and its member boundaries."""
    writer = WarcWriter(directory, prefix="news", hostname="box")
    boundaries = []
    for number in range(pages):
        body = f"<html><body>Bài {number} ".encode() + bytes(range(256)) * 20 + b"</body></html>"
        pointer = writer.write_exchange(
            url=f"http://127.0.0.1/bai-{number}.html", method="GET",
            request_headers=[("Host", "127.0.0.1")], request_body=b"", protocol="HTTP/1.1",
            status=200, reason="OK", response_headers=[("Content-Type", "text/html")], body=body,
        )
        boundaries += [pointer.offset, pointer.offset + pointer.length]
    assert writer.current_path is not None
    boundaries.append(writer.current_path.stat().st_size)
    return writer, writer.current_path, boundaries


def test_a_file_cut_at_any_byte_is_recovered_to_its_complete_records(tmp_path: Path) -> None:
    writer, open_path, boundaries = write_unfinished_file(tmp_path / "live")
    data = open_path.read_bytes()
    all_ids = record_ids(open_path)
    # Every record boundary, one byte either side, and points inside members.
    cuts = sorted({c + d for c in boundaries for d in (-1, 0, 1) if 0 < c + d <= len(data)}
                  | set(range(1, len(data), 97)))
    recovered = []
    for cut in cuts:
        directory = tmp_path / f"cut-{cut}"
        directory.mkdir()
        crashed = directory / open_path.name
        crashed.write_bytes(data[:cut])

        [result] = recover_directory(directory)

        whole = sum(1 for b in [0, *boundaries] if b <= cut) - 1
        if result.removed:
            assert list(directory.iterdir()) == [], cut
            continue
        final = result.final_path
        assert final is not None and final.name == open_path.name.removesuffix(".open")
        assert list(directory.iterdir()) == [final]
        recovered.append(final)
        ids = record_ids(final)
        assert ids == all_ids[: len(ids)], cut
        assert result.records == len(ids) >= whole, cut  # no complete record lost
        assert result.kept_bytes + result.cut_bytes == cut
    check = warcio_check(*recovered)
    assert check.returncode == 0, check.stdout + check.stderr
    writer.close()


def test_a_complete_file_is_only_renamed(tmp_path: Path) -> None:
    writer, open_path, _ = write_unfinished_file(tmp_path)
    data = open_path.read_bytes()
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / open_path.name).write_bytes(data)

    [result] = recover_directory(copy)

    assert result.cut_bytes == 0 and result.records == 9  # warcinfo + 4 pairs
    assert result.final_path is not None and result.final_path.read_bytes() == data
    writer.close()


def test_trailing_garbage_is_cut(tmp_path: Path) -> None:
    writer, open_path, _ = write_unfinished_file(tmp_path)
    data = open_path.read_bytes()
    writer.close()
    copy = tmp_path / "copy"
    copy.mkdir()
    # A gzip member that inflates to half a record, then bytes that are not gzip at all.
    (copy / open_path.name).write_bytes(data + gzip.compress(b"WARC/1.1\r\nContent-Length: 9"))
    (copy / "other.warc.gz.open").write_bytes(data + b"\x00garbage")

    results = recover_directory(copy)

    assert [r.records for r in results] == [9, 9]
    for result in results:
        assert result.final_path is not None
        assert result.final_path.read_bytes() == data
        assert warcio_check(result.final_path).returncode == 0


def test_a_file_held_by_a_live_writer_is_left_alone(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO)
    writer, open_path, _ = write_unfinished_file(tmp_path)
    size = open_path.stat().st_size

    assert recover_directory(tmp_path) == []

    assert open_path.exists() and open_path.stat().st_size == size
    assert "being written by a running crawl" in caplog.text
    writer.close()
    assert complete_prefix(tmp_path / open_path.name.removesuffix(".open")) == (size, 9)
