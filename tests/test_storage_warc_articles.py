"""Archived article responses found for ``reparse`` and ``sitecheck``: through the CDXJ index.

Records are written by `storage.warc.WarcWriter` as a crawl writes them and indexed by
`storage.index.write_cdxj` as ``scrapy index`` does.
"""

from __future__ import annotations

import os
from pathlib import Path

from storage.index import closed_warc_files, write_cdxj
from storage.warc import WarcWriter
from storage.warc_articles import iter_latest_captures


def write(writer: WarcWriter, path: str, status: int, body: bytes,
          content_type: str = "text/html; charset=utf-8"):
    """Archive one GET of ``path`` answered with ``status`` and ``body``; return its pointer."""
    return writer.write_exchange(
        url=f"https://baonamdinh.vn{path}", method="GET",
        request_headers=[("Host", "baonamdinh.vn")], request_body=b"", protocol="HTTP/1.1",
        status=status, reason={200: "OK", 304: "Not Modified"}[status],
        response_headers=[("Content-Type", content_type)], body=body,
    )


def pages(url: str) -> bool:
    return url.endswith(".html")


def index(warc: Path, archive: Path) -> Path:
    path = archive / "index.cdxj"
    write_cdxj(closed_warc_files(warc), path, warc)
    return path


def test_captures_through_the_index_are_those_a_scan_finds(tmp_path):
    warc = tmp_path / "warc"
    with WarcWriter(warc, prefix="first", hostname="box") as writer:
        write(writer, "/z.html", 200, b"<p>z</p>")
        write(writer, "/a.html", 200, b"<p>a</p>")
        write(writer, "/a.html", 304, b"")  # a later crawl's revalidation: not a capture
        write(writer, "/b.html", 200, b"<p>b</p>")
        write(writer, "/logo.png", 200, b"\x89PNG", "image/png")
    index_file = index(warc, tmp_path)
    # Written after the index: closed (not in the index) and still open.
    with WarcWriter(warc, prefix="second", hostname="box") as writer:
        newer_a = write(writer, "/a.html", 200, b"<p>a, edited</p>")
    unfinished = WarcWriter(warc, prefix="third", hostname="box")
    write(unfinished, "/c.html", 200, b"<p>c</p>")

    scanned = list(iter_latest_captures(warc, pages))
    through_index = list(iter_latest_captures(warc, pages, index_file))
    merged_runs = list(iter_latest_captures(warc, pages, index_file, run_size=1))

    assert [capture.url for capture in scanned] == [
        f"https://baonamdinh.vn/{name}.html" for name in ("a", "b", "c", "z")]
    assert through_index == scanned and merged_runs == scanned
    latest_a = scanned[0]
    assert latest_a.pointer["record_id"] == newer_a.record_id
    assert latest_a.pointer["offset"] == newer_a.offset
    assert latest_a.content_type == "text/html; charset=utf-8"
    assert scanned[2].pointer["filename"] == unfinished.current_path.name.removesuffix(".open")
    unfinished.close()


def test_a_damaged_record_hides_no_indexed_capture_after_it(tmp_path):
    warc = tmp_path / "warc"
    with WarcWriter(warc, prefix="news", hostname="box") as writer:
        write(writer, "/a.html", 200, b"<p>a</p>")
        logo = write(writer, "/logo.png", 200, b"\x89PNG" * 200, "image/png")
        write(writer, "/c.html", 200, b"<p>c</p>")
    index_file = index(warc, tmp_path)
    # Bit rot on the disk in the middle of the file: its time does not change.
    path = warc / logo.filename
    times = path.stat()
    with path.open("r+b") as stream:
        stream.seek(logo.offset + 20)
        stream.write(b"\xff" * 40)
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))

    scanned = [capture.url for capture in iter_latest_captures(warc, pages)]
    through_index = [capture.url for capture in iter_latest_captures(warc, pages, index_file)]

    assert scanned == ["https://baonamdinh.vn/a.html"]  # a scan stops at the damage
    assert through_index == ["https://baonamdinh.vn/a.html", "https://baonamdinh.vn/c.html"]


def test_sorting_runs_stay_in_the_archive_and_a_killed_run_s_are_cleared(tmp_path, monkeypatch):
    import tempfile

    warc = tmp_path / "archive" / "warc"
    with WarcWriter(warc, prefix="first", hostname="box") as writer:
        for number in range(5):
            write(writer, f"/{number}.html", 200, b"<p>%d</p>" % number)
    # What a sitecheck killed mid-sort left (its process is gone), and a system temporary
    # folder that must stay untouched (often in RAM: the runs are ~150 bytes a capture).
    left = tmp_path / "archive" / ".captures.999999999.abc.tmp"
    left.mkdir()
    (left / "run-0").write_text("x")
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    captures = iter_latest_captures(warc, pages, run_size=2)
    first = next(captures)
    seen_during = sorted(p.name for p in (tmp_path / "archive").iterdir())
    rest = list(captures)
    assert len([first, *rest]) == 5
    assert not left.exists() and list(system_tmp.iterdir()) == []
    assert any(name.startswith(".captures.") for name in seen_during)  # runs beside warc/
    assert sorted(p.name for p in (tmp_path / "archive").iterdir()) == ["warc"]
