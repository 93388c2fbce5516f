"""Tests for storage.warc_recovery: damaged files keep every readable record, and lose no byte."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import logging
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from warcio.archiveiterator import ArchiveIterator
from warcio.checker import Checker
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storage.warc import WarcWriter
from storage.warc_recovery import QUARANTINE_DIR, REPORT_NAME, RecoveredFile, recover_directory


def warcio_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    """Run ``warcio check`` as an archivist would."""
    return subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", *map(str, paths)], capture_output=True,
        text=True,
    )


def warcio_check_passes(path: Path) -> bool:
    """``warcio check`` in this process (the fuzz test runs it hundreds of times)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return Checker(SimpleNamespace(inputs=[str(path)], verbose=False)).process_all() == 0


def record_ids(path: Path) -> list[str]:
    """Return the ``WARC-Record-ID`` of every record in ``path``, reading it to the end."""
    with path.open("rb") as stream:
        return [r.rec_headers.get_header("WARC-Record-ID") for r in ArchiveIterator(stream)]


def units(data: bytes) -> list[bytes]:
    """Split a sound WARC into its records' bytes: gzip members, or uncompressed records."""
    offsets = []
    with io.BytesIO(data) as stream:
        records = ArchiveIterator(stream)
        for _ in records:
            offsets.append(records.get_record_offset())
    return [data[start:end] for start, end in zip(offsets, [*offsets[1:], len(data)], strict=True)]


def readable_alone(unit: bytes) -> bool:
    """Whether warcio reads ``unit`` on its own as whole WARC records with sound digests."""
    try:
        count = 0
        with io.BytesIO(unit) as stream:
            for record in ArchiveIterator(stream, check_digests=True):
                if record.format != "warc":
                    return False
                while record.raw_stream.read(1 << 16):
                    pass
                if record.raw_stream.limit or record.digest_checker.passed is False:
                    return False
                count += 1
        return count > 0
    except Exception:  # noqa: BLE001 - anything warcio fails on is unreadable
        return False


def report_lines(directory: Path) -> list[dict]:
    """The recovery report, parsed."""
    path = directory / REPORT_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def reassemble(result: RecoveredFile, directory: Path) -> bytes:
    """Rebuild the ``.open`` file from the recovered file, the quarantine and the report."""
    assert result.final_path is not None
    kept = result.final_path.read_bytes()
    spans = sorted(
        (line for line in report_lines(directory) if line["file"] == result.open_path.name
         and line["action"] == "quarantined"),
        key=lambda line: line["offset"],
    )
    assert [(s["offset"], s["length"]) for s in spans] == [
        (s.offset, s.length) for s in result.damaged]
    parts, position, kept_position = [], 0, 0
    for span in spans:
        assert span["offset"] >= position and span["recovered_as"] == result.final_path.name
        take = span["offset"] - position
        parts.append(kept[kept_position:kept_position + take])
        kept_position += take
        quarantined = (directory / span["quarantine"]).read_bytes()
        assert len(quarantined) == span["length"], span
        parts.append(quarantined)
        position = span["offset"] + span["length"]
    parts.append(kept[kept_position:])
    return b"".join(parts)


def assert_nothing_lost(
    data: bytes, result: RecoveredFile, directory: Path, context: str = ""
) -> None:
    """Every byte of ``data`` is in the recovered file or in quarantine; the WARC reads well."""
    assert not result.open_path.exists(), context
    assert reassemble(result, directory) == data, context
    assert result.kept_bytes + result.quarantined_bytes == len(data), context
    assert result.final_path is not None, context
    assert len(record_ids(result.final_path)) == result.records, context
    assert warcio_check_passes(result.final_path), context
    assert not list(directory.rglob("*.part")), context  # no temporary file left behind


def recover_copy(directory: Path, name: str, data: bytes) -> RecoveredFile:
    """Put ``data`` in an empty ``directory`` as ``name`` and recover it."""
    directory.mkdir(parents=True)
    (directory / name).write_bytes(data)
    [result] = recover_directory(directory)
    return result


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


def warcio_file(*, compressed: bool, chunked: bool = False, pages: int = 3) -> bytes:
    """A WARC written by warcio itself: warcinfo, then response, request and resource records."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=compressed, warc_version="1.0")
    writer.write_record(writer.create_warcinfo_record("other.warc", {"software": "warcio"}))
    for number in range(pages):
        url = f"http://example.org/{number}"
        if chunked:
            body = b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                            for part in [b"<p>chunk %d</p>" % number, b"x" * 700]) + b"0\r\n\r\n"
            headers = [("Transfer-Encoding", "chunked"), ("Content-Type", "text/html")]
        else:
            body = b"<p>page %d</p>" % number + bytes(range(256)) * 4
            headers = [("Content-Type", "text/html")]
        http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
        response = writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                             http_headers=http)
        writer.write_record(response)
        request = writer.create_warc_record(
            url, "request", payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders(f"GET /{number} HTTP/1.1", [("Host", "example.org")],
                                          is_http_request=True))
        request.rec_headers.add_header("WARC-Concurrent-To",
                                       response.rec_headers.get_header("WARC-Record-ID"))
        writer.write_record(request)
        writer.write_record(writer.create_warc_record(
            f"urn:note:{number}", "resource", payload=io.BytesIO(b"note %d" % number),
            warc_content_type="text/plain"))
    return out.getvalue()


ARC_HEADER = (b"filedesc://crawl.arc 0.0.0.0 20240101000000 text/plain 76\n"
              b"1 0 Internet Archive\nURL IP-address Archive-date Content-type Archive-length\n")


def arc_records(pages: int = 4) -> list[bytes]:
    """The records of a small ARC (version 1) file, its filedesc record first."""
    records = [ARC_HEADER + b"\n"]
    for number in range(pages):
        http = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<p>%d</p>" % number
        records.append(b"http://example.org/%d 10.0.0.1 20240101000000 text/html %d\n%s\n"
                       % (number, len(http), http))
    return records


# The losses an adversarial tester measured on the first recovery, each as a test.


def test_a_zeroed_block_costs_only_the_records_it_touches(tmp_path: Path) -> None:
    writer, open_path, _ = write_unfinished_file(tmp_path / "live", pages=150)
    writer.close()
    data = (tmp_path / "live" / open_path.name.removesuffix(".open")).read_bytes()
    members = units(data)
    start = len(data) // 10
    damaged = data[:start] + bytes(4096) + data[start + 4096:]

    result = recover_copy(tmp_path / "copy", open_path.name, damaged)

    position, intact = 0, []
    for member in members:
        if position + len(member) <= start or position >= start + 4096:
            intact.append(member)
        position += len(member)
    assert len(members) == 301 and 0 < len(members) - len(intact) <= 10  # a few members
    assert result.final_path is not None
    assert result.final_path.read_bytes() == b"".join(intact)
    assert result.records == len(intact)
    [span] = result.damaged
    assert span.offset < start < start + 4096 < span.offset + span.length
    assert_nothing_lost(damaged, result, tmp_path / "copy")
    assert warcio_check(result.final_path).returncode == 0


def test_a_flipped_bit_in_the_warcinfo_record_loses_only_the_warcinfo(tmp_path: Path) -> None:
    writer, open_path, _ = write_unfinished_file(tmp_path / "live", pages=20)
    data = open_path.read_bytes()
    writer.close()
    warcinfo = units(data)[0]
    flipped = bytearray(data)
    flipped[len(warcinfo) // 3] ^= 0x10  # inside the compressed WARC headers

    result = recover_copy(tmp_path / "copy", open_path.name, bytes(flipped))

    assert result.final_path is not None
    assert result.final_path.read_bytes() == data[len(warcinfo):]
    assert result.records == 40
    [span] = result.damaged
    assert (span.offset, span.length) == (0, len(warcinfo))
    assert span.quarantine is not None and span.quarantine.read_bytes() == flipped[:len(warcinfo)]
    assert "corrupt gzip member" in span.reason
    assert_nothing_lost(bytes(flipped), result, tmp_path / "copy")


def test_an_uncompressed_warc_is_recovered(tmp_path: Path) -> None:
    data = warcio_file(compressed=False)
    records = units(data)
    crashed = data[: len(data) - len(records[-1]) // 2]  # killed in the last record

    for name in ("other.warc.open", "other.warc.gz.open"):  # the content decides, not the name
        result = recover_copy(tmp_path / name, name, crashed)

        assert result.final_path is not None
        assert result.final_path.name == name.removesuffix(".open")
        assert result.final_path.read_bytes() == b"".join(records[:-1])
        assert result.records == len(records) - 1
        [span] = result.damaged
        assert span.offset == len(data) - len(records[-1])
        assert "cut short by the end of the file" in span.reason
        assert_nothing_lost(crashed, result, tmp_path / name)


def test_a_valid_uncompressed_warc_is_only_renamed(tmp_path: Path) -> None:
    data = warcio_file(compressed=False)

    result = recover_copy(tmp_path / "copy", "other.warc.open", data)

    assert result.final_path is not None and result.final_path.read_bytes() == data
    assert result.damaged == () and report_lines(tmp_path / "copy") == []
    assert not (tmp_path / "copy" / QUARANTINE_DIR).exists()


def test_records_with_a_chunked_http_body_are_recovered(tmp_path: Path) -> None:
    for compressed in (True, False):
        data = warcio_file(compressed=compressed, chunked=True)
        records = units(data)
        crashed = data[: len(data) - 5]
        name = "chunked.warc.gz.open" if compressed else "chunked.warc.open"

        result = recover_copy(tmp_path / name, name, crashed)

        assert result.final_path is not None
        assert result.final_path.read_bytes() == b"".join(records[:-1])
        assert_nothing_lost(crashed, result, tmp_path / name)
        with result.final_path.open("rb") as stream:
            bodies = [r.content_stream().read() for r in ArchiveIterator(stream)
                      if r.rec_type == "response"]
        assert bodies[0] == b"<p>chunk 0</p>" + b"x" * 700  # de-chunked on reading


def test_an_arc_file_is_left_untouched_and_reported(tmp_path: Path, caplog) -> None:
    records = arc_records()
    files = {
        "old.warc.gz.open": b"".join(gzip.compress(record) for record in records),
        "old.warc.open": b"".join(records),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    results = recover_directory(tmp_path)

    assert [r.final_path for r in results] == [None, None]
    assert {r.untouched_reason for r in results} == {"an ARC file, not WARC"}
    for name, data in files.items():
        assert (tmp_path / name).read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*files, REPORT_NAME])
    lines = report_lines(tmp_path)
    assert {(line["file"], line["action"], line["length"]) for line in lines} == {
        (name, "left untouched", len(data)) for name, data in files.items()}
    assert "Left" in caplog.text and "an ARC file, not WARC" in caplog.text


def test_garbage_is_left_untouched_and_an_empty_file_removed(tmp_path: Path) -> None:
    (tmp_path / "garbage.warc.gz.open").write_bytes(b"\x1f\x8b\x08" + bytes(5000))
    (tmp_path / "empty.warc.gz.open").write_bytes(b"")

    empty, garbage = recover_directory(tmp_path)

    assert empty.removed and not (tmp_path / "empty.warc.gz.open").exists()
    assert garbage.final_path is None and not garbage.removed
    assert (tmp_path / "garbage.warc.gz.open").read_bytes() == b"\x1f\x8b\x08" + bytes(5000)
    assert [line["action"] for line in report_lines(tmp_path)] == ["removed", "left untouched"]


# Crashes: the file ends in a partial record.


def test_a_file_cut_at_any_byte_keeps_its_complete_records(tmp_path: Path) -> None:
    writer, open_path, boundaries = write_unfinished_file(tmp_path / "live")
    data = open_path.read_bytes()
    all_ids = record_ids(open_path)
    # Every record boundary, one byte either side, and points inside members.
    cuts = sorted({c + d for c in boundaries for d in (-1, 0, 1) if 0 < c + d <= len(data)}
                  | set(range(1, len(data), 97)))
    recovered = []
    for cut in cuts:
        directory = tmp_path / f"cut-{cut}"
        result = recover_copy(directory, open_path.name, data[:cut])

        whole = sum(1 for b in [0, *boundaries] if b <= cut) - 1
        if whole == 0:  # not even the warcinfo: nothing is readable, nothing is touched
            assert result.final_path is None and result.untouched_reason
            assert (directory / open_path.name).read_bytes() == data[:cut]
            continue
        final = result.final_path
        assert final is not None and final.name == open_path.name.removesuffix(".open")
        recovered.append(final)
        ids = record_ids(final)
        assert ids == all_ids[:whole] and result.records == whole, cut
        assert data.startswith(final.read_bytes())
        assert_nothing_lost(data[:cut], result, directory)
        if cut in boundaries or cut == len(data):
            assert result.damaged == ()
        else:  # the partial record is quarantined, not dropped
            [span] = result.damaged
            assert span.offset == len(final.read_bytes())
            assert "the write a crash interrupted" in span.reason
    check = warcio_check(*recovered)
    assert check.returncode == 0, check.stdout + check.stderr
    writer.close()


def test_a_complete_file_is_only_renamed(tmp_path: Path) -> None:
    writer, open_path, _ = write_unfinished_file(tmp_path)
    data = open_path.read_bytes()

    result = recover_copy(tmp_path / "copy", open_path.name, data)

    assert result.damaged == () and result.records == 9  # warcinfo + 4 pairs
    assert result.final_path is not None and result.final_path.read_bytes() == data
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == [result.final_path.name]
    writer.close()


def test_trailing_garbage_is_quarantined(tmp_path: Path, caplog) -> None:
    writer, open_path, _ = write_unfinished_file(tmp_path)
    data = open_path.read_bytes()
    writer.close()
    copy = tmp_path / "copy"
    copy.mkdir()
    # A gzip member that inflates to half a record, then bytes that are not gzip at all.
    half = gzip.compress(b"WARC/1.1\r\nContent-Length: 9")
    (copy / open_path.name).write_bytes(data + half)
    (copy / "other.warc.gz.open").write_bytes(data + b"\x00garbage")

    results = recover_directory(copy)

    assert [r.records for r in results] == [9, 9]
    for result, tail in zip(results, [half, b"\x00garbage"], strict=True):
        assert result.final_path is not None
        assert result.final_path.read_bytes() == data
        [span] = result.damaged
        assert span.quarantine is not None and span.quarantine.read_bytes() == tail
        assert span.quarantine.parent == copy / QUARANTINE_DIR
        assert_nothing_lost(data + tail, result, copy)
    assert f"Recovered {copy / open_path.name}" in caplog.text
    assert "moved to" in caplog.text and REPORT_NAME in caplog.text


def test_a_file_held_by_a_live_writer_is_left_alone(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO)
    writer, open_path, _ = write_unfinished_file(tmp_path)
    data = open_path.read_bytes()

    assert recover_directory(tmp_path) == []

    assert open_path.read_bytes() == data
    assert "being written by a running crawl" in caplog.text
    writer.close()
    assert [r.rec_type for r in ArchiveIterator(io.BytesIO(data))][0] == "warcinfo"
