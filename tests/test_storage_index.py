"""Tests for storage.index: the CDXJ index a replay tool reads."""

from __future__ import annotations

import json
from pathlib import Path

from storage.index import closed_warc_files, write_cdxj
from storage.warc import WarcWriter


def write(writer: WarcWriter, path: str, status: int, body: bytes) -> None:
    """Archive one GET of ``path`` answered with ``status`` and ``body``."""
    writer.write_exchange(
        url=f"https://baonamdinh.vn{path}", method="GET",
        request_headers=[("Host", "baonamdinh.vn")], request_body=b"", protocol="HTTP/1.1",
        status=status,
        reason={200: "OK", 304: "Not Modified"}[status],
        response_headers=[("Content-Type", "text/html; charset=utf-8")], body=body,
    )


def test_index_is_sorted_relative_and_leaves_out_not_modified(tmp_path: Path) -> None:
    warc = tmp_path / "warc"
    with WarcWriter(warc, prefix="news", hostname="box") as writer:
        write(writer, "/z.html", 200, b"<p>z</p>")
        write(writer, "/a.html", 200, b"<p>a</p>")
        write(writer, "/a.html", 304, b"")  # a conditional request of a later crawl
    unfinished = WarcWriter(warc, prefix="later", hostname="box")
    write(unfinished, "/b.html", 200, b"<p>b</p>")

    files = closed_warc_files(warc)
    assert [p.name for p in files] == [writer.files_closed[0].name]  # .open files are not indexed
    count = write_cdxj(files, tmp_path / "index.cdxj", warc)

    lines = (tmp_path / "index.cdxj").read_text().splitlines()
    assert count == len(lines) and lines == sorted(lines)
    entries = [json.loads(line.split(" ", 2)[2]) for line in lines]
    pages = [e for e in entries if e.get("url", "").startswith("https://")]
    assert [(e["url"], e["status"]) for e in pages] == [
        ("https://baonamdinh.vn/a.html", "200"), ("https://baonamdinh.vn/z.html", "200"),
    ]
    assert {e["filename"] for e in entries} == {files[0].name}
    assert lines[[e.get("url") for e in entries].index(pages[0]["url"])].startswith(
        "vn,baonamdinh)/a.html "
    )
    unfinished.close()


def test_the_sort_spills_beside_the_index_not_into_the_system_temporary_folder(
    tmp_path: Path, monkeypatch
) -> None:
    # cdxj-indexer sorts in runs of 32 MB written to temporary files: at 1,000,000 articles
    # ~2 GB, which a /tmp in memory (tmpfs) would hold in RAM, and a killed run would leave there.
    import cdxj_indexer.main as cdxj_indexer

    spilled: list[Path] = []
    real = cdxj_indexer.NamedTemporaryFile

    def recorded(*args, **kwargs):
        handle = real(*args, **kwargs)
        spilled.append(Path(handle.name))
        return handle

    monkeypatch.setattr(cdxj_indexer, "NamedTemporaryFile", recorded)
    monkeypatch.setattr(cdxj_indexer.SortingWriter, "MAX_SORT_BUFF_SIZE", 512)
    with WarcWriter(tmp_path / "warc", prefix="news", hostname="box") as writer:
        for number in range(40):
            write(writer, f"/{number}.html", 200, b"<p>%d</p>" % number)
    output = tmp_path / "archive" / "index.cdxj"
    lines = write_cdxj(closed_warc_files(tmp_path / "warc"), output, tmp_path / "warc")
    assert lines == 40 and len(output.read_text().splitlines()) == 40
    assert len(spilled) > 1  # the sort did spill
    assert all(path.parent.parent == output.parent for path in spilled), spilled
    assert sorted(p.name for p in output.parent.iterdir()) == [
        "index.cdxj", "index.cdxj.sources.json"]  # the scratch directory went with its runs
