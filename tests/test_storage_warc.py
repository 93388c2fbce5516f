"""Tests for storage.warc: naming, rotation, record pairing, digests and pointers."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import re
import subprocess
import sys
import textwrap
import tracemalloc
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from storage.warc import WarcPointer, WarcWriter
from storage.warc_digests import DigestIndex

START = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
HTML = "<html><body><p>Tin, ảnh: Nam Định</p></body></html>".encode()


class SteppingClock:
    """A clock that advances by one millisecond each time it is read."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        current = self.now
        self.now += timedelta(milliseconds=1)
        return current


class SequentialIds:
    """Record ids ``<urn:uuid:00000000-0000-0000-0000-00000000000N>``, in order."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"<urn:uuid:00000000-0000-0000-0000-{self.count:012d}>"


@dataclass
class Record:
    """What a test needs from one WARC record, read while iterating."""

    rec_type: str
    headers: dict[str, str]
    offset: int
    http_headers: Any = None
    raw: bytes = b""
    content: bytes = b""


def read_records(path: Path) -> list[Record]:
    """Return every record of a WARC file with its raw and decoded payload."""
    records = []
    with path.open("rb") as stream:
        iterator = ArchiveIterator(stream)
        for record in iterator:
            http_headers = record.http_headers
            # Read the payload first: get_record_offset() skips to the record's end.
            content = record.content_stream().read()
            records.append(
                Record(
                    rec_type=record.rec_type,
                    headers=dict(record.rec_headers.headers),
                    offset=iterator.get_record_offset(),
                    http_headers=http_headers,
                    content=content,
                )
            )
    with path.open("rb") as stream:
        for entry, record in zip(records, ArchiveIterator(stream), strict=True):
            entry.raw = record.raw_stream.read()
    return records


def sha1_base32(data: bytes) -> str:
    """Return a digest in the form WARC files use."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def make_writer(directory: Path, **kwargs: Any) -> WarcWriter:
    """Return a writer with a deterministic clock, ids and host name."""
    options: dict[str, Any] = {
        "prefix": "news",
        "hostname": "crawl box_1",
        "clock": SteppingClock(),
        "record_id_factory": SequentialIds(),
    }
    options.update(kwargs)
    return WarcWriter(directory, **options)


def write_page(writer: WarcWriter, path: str = "/bai-viet/1.html", **overrides: Any) -> WarcPointer:
    """Write one ordinary exchange and return its pointer."""
    exchange: dict[str, Any] = {
        "url": f"https://baonamdinh.vn{path}",
        "method": "GET",
        "request_headers": [("Host", "baonamdinh.vn"), ("User-Agent", "archiver-test")],
        "request_body": b"",
        "protocol": "HTTP/1.1",
        "status": 200,
        "reason": "OK",
        "response_headers": [("Content-Type", "text/html; charset=utf-8")],
        "body": HTML,
        "ip_address": "127.0.0.1",
    }
    exchange.update(overrides)
    return writer.write_exchange(**exchange)


def warcio_check(path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``warcio check -v`` (the package has no ``__main__``; its ``cli`` module does)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "warcio.cli",
            "check",
            "-v",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_file_ends_in_open_while_written_and_is_renamed_on_close(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    assert writer.current_path is None
    assert list(tmp_path.iterdir()) == []  # opened lazily

    pointer = write_page(writer)

    open_path = writer.current_path
    assert open_path is not None
    assert open_path.name == pointer.filename + ".open"
    assert [p.name for p in tmp_path.iterdir()] == [open_path.name]

    writer.close()
    writer.close()  # idempotent

    assert writer.current_path is None
    assert [p.name for p in tmp_path.iterdir()] == [pointer.filename]
    assert writer.files_closed == [tmp_path / pointer.filename]


def test_file_name_has_prefix_timestamp_serial_and_sanitised_host(tmp_path: Path) -> None:
    with make_writer(tmp_path) as writer:
        pointer = write_page(writer)

    assert pointer.filename == "news-20240506070809123456-00000-crawl-box-1.warc.gz"
    assert re.fullmatch(r"[A-Za-z0-9._-]+-\d{20}-\d{5}-[A-Za-z0-9.-]+\.warc\.gz", pointer.filename)


def test_directory_is_created(tmp_path: Path) -> None:
    directory = tmp_path / "archive" / "warc"
    WarcWriter(directory)
    assert directory.is_dir()


def test_two_writers_starting_together_get_distinct_files(tmp_path: Path) -> None:
    first = WarcWriter(tmp_path, hostname="h")
    second = WarcWriter(tmp_path, hostname="h")
    names = {write_page(first).filename, write_page(second).filename}
    first.close()
    second.close()
    assert len(names) == 2
    assert {p.name for p in tmp_path.iterdir()} == names


def test_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    with make_writer(tmp_path, clock=lambda: START) as writer:
        write_page(writer)
    with make_writer(tmp_path, clock=lambda: START) as twin:
        with pytest.raises(FileExistsError, match="another prefix or directory"):
            write_page(twin)


def test_first_record_is_warcinfo(tmp_path: Path) -> None:
    info = {"operator": "Thư viện tỉnh", "isPartOf": "baonamdinh", "http-header-user-agent": "ua"}
    with make_writer(tmp_path, warcinfo=info) as writer:
        pointer = write_page(writer)

    warcinfo = read_records(tmp_path / pointer.filename)[0]
    assert warcinfo.rec_type == "warcinfo"
    assert warcinfo.headers["WARC-Filename"] == pointer.filename
    assert warcinfo.headers["WARC-Date"] == "2024-05-06T07:08:09.123456Z"
    assert warcinfo.headers["WARC-Record-ID"] == "<urn:uuid:00000000-0000-0000-0000-000000000001>"
    fields = dict(
        line.split(": ", 1) for line in warcinfo.content.decode("utf-8").strip().splitlines()
    )
    assert re.fullmatch(
        rf"provincial-news-archiver/\S+ \(warcio/{re.escape(version('warcio'))}\)",
        fields.pop("software"),
    )
    assert fields == {
        "format": "WARC File Format 1.1",
        "conformsTo": (
            "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
        ),
        "hostname": "crawl-box-1",
        "robots": "obey",
        **info,
    }


def test_warcinfo_entries_override_defaults(tmp_path: Path) -> None:
    with make_writer(tmp_path, warcinfo={"robots": "ignore"}) as writer:
        pointer = write_page(writer)
    warcinfo = read_records(tmp_path / pointer.filename)[0]
    assert b"robots: ignore\r\n" in warcinfo.content
    assert b"robots: obey" not in warcinfo.content


def test_records_are_warc_1_1(tmp_path: Path) -> None:
    with make_writer(tmp_path) as writer:
        pointer = write_page(writer)
    with gzip.open(tmp_path / pointer.filename) as stream:
        data = stream.read()
    assert data.startswith(b"WARC/1.1\r\n")
    assert data.count(b"WARC/1.1\r\n") == 3


def test_response_then_request_paired_by_concurrent_to(tmp_path: Path) -> None:
    with make_writer(tmp_path) as writer:
        pointer = write_page(writer, "/tin-tuc?page=2")

    warcinfo, response, request = read_records(tmp_path / pointer.filename)
    assert (response.rec_type, request.rec_type) == ("response", "request")
    assert response.headers["WARC-Record-ID"] == pointer.record_id
    assert request.headers["WARC-Concurrent-To"] == response.headers["WARC-Record-ID"]
    assert request.headers["WARC-Date"] == response.headers["WARC-Date"]
    assert response.headers["WARC-Target-URI"] == request.headers["WARC-Target-URI"]
    assert response.headers["WARC-Target-URI"] == "https://baonamdinh.vn/tin-tuc?page=2"
    assert response.headers["WARC-IP-Address"] == "127.0.0.1"
    assert "WARC-IP-Address" not in request.headers
    assert response.headers["WARC-Warcinfo-ID"] == warcinfo.headers["WARC-Record-ID"]
    assert response.http_headers.protocol == "HTTP/1.1"
    assert response.http_headers.statusline == "200 OK"
    assert request.http_headers.protocol == "GET"
    assert request.http_headers.statusline == "/tin-tuc?page=2 HTTP/1.1"
    assert request.http_headers.headers == [
        ("Host", "baonamdinh.vn"),
        ("User-Agent", "archiver-test"),
    ]


def test_request_body_is_archived(tmp_path: Path) -> None:
    with make_writer(tmp_path) as writer:
        pointer = write_page(
            writer,
            method="POST",
            request_headers=[("Content-Type", "application/x-www-form-urlencoded")],
            request_body=b"q=n%C3%B4ng+nghi%E1%BB%87p",
        )
    request = read_records(tmp_path / pointer.filename)[2]
    assert request.http_headers.protocol == "POST"
    assert request.raw == b"q=n%C3%B4ng+nghi%E1%BB%87p"


def test_payload_digest_is_sha1_base32_of_body(tmp_path: Path) -> None:
    with make_writer(tmp_path) as writer:
        pointer = write_page(writer)

    response = read_records(tmp_path / pointer.filename)[1]
    assert response.headers["WARC-Payload-Digest"] == sha1_base32(HTML)
    assert pointer.payload_digest == sha1_base32(HTML)
    assert response.headers["WARC-Block-Digest"].startswith("sha1:")


def test_pointer_leads_to_the_response_record(tmp_path: Path) -> None:
    with make_writer(tmp_path) as writer:
        write_page(writer, "/a.html")
        pointer = write_page(writer, "/b.html", body=b"second page")
        write_page(writer, "/c.html")

    path = tmp_path / pointer.filename
    with path.open("rb") as stream:
        stream.seek(pointer.offset)
        record = next(iter(ArchiveIterator(stream)))
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Record-ID") == pointer.record_id
        assert record.rec_headers.get_header("WARC-Target-URI") == pointer.target_uri
        assert record.content_stream().read() == b"second page"

    # offset + length delimit exactly one gzip member: the response record alone.
    member = path.read_bytes()[pointer.offset : pointer.offset + pointer.length]
    records = list(ArchiveIterator(io.BytesIO(member)))
    assert [r.rec_type for r in records] == ["response"]
    assert pointer.as_dict() == {
        "filename": pointer.filename,
        "record_id": pointer.record_id,
        "offset": pointer.offset,
        "length": pointer.length,
        "payload_digest": sha1_base32(b"second page"),
        "target_uri": "https://baonamdinh.vn/b.html",
        "record_type": "response",
        "refers_to": None,
        "date": record.rec_headers.get_header("WARC-Date"),
        "original": None,
    }


def test_headers_kept_in_order_with_duplicates(tmp_path: Path) -> None:
    headers = [
        ("Set-Cookie", "session=1; Path=/"),
        ("Content-Type", "text/html"),
        ("Set-Cookie", "lang=vi; Path=/"),
        ("Content-Length", "999"),
    ]
    with make_writer(tmp_path) as writer:
        pointer = write_page(writer, response_headers=headers)

    response = read_records(tmp_path / pointer.filename)[1]
    assert response.http_headers.headers == headers  # Content-Length stays as received


def test_non_ascii_header_bytes_are_stored_unchanged(tmp_path: Path) -> None:
    raw_value = 'attachment; filename="Nam Định.pdf"'.encode()
    with make_writer(tmp_path) as writer:
        pointer = write_page(
            writer, response_headers=[("Content-Disposition", raw_value.decode("latin-1"))]
        )
    with gzip.open(tmp_path / pointer.filename) as stream:
        assert b"Content-Disposition: " + raw_value + b"\r\n" in stream.read()


def test_gzip_body_stored_as_received_and_decoded_by_reader(tmp_path: Path) -> None:
    compressed = gzip.compress(HTML, mtime=0)
    with make_writer(tmp_path) as writer:
        pointer = write_page(
            writer,
            response_headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
            body=compressed,
        )

    response = read_records(tmp_path / pointer.filename)[1]
    assert response.raw == compressed
    assert response.content == HTML
    assert response.headers["WARC-Payload-Digest"] == sha1_base32(compressed)


def test_transfer_encoding_is_renamed(tmp_path: Path) -> None:
    with make_writer(tmp_path) as writer:
        pointer = write_page(
            writer,
            response_headers=[("Transfer-Encoding", "chunked"), ("Content-Type", "text/html")],
        )

    response = read_records(tmp_path / pointer.filename)[1]
    assert response.http_headers.headers == [
        ("X-Archive-Orig-Transfer-Encoding", "chunked"),
        ("Content-Type", "text/html"),
    ]
    assert response.content == HTML  # a reader does not try to de-chunk the body


def test_rotation_starts_new_files_with_warcinfo_and_never_splits_a_pair(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, max_size=3000)
    pointers = [write_page(writer, f"/{n}.html", body=os.urandom(1200)) for n in range(7)]
    writer.close()

    files = sorted(tmp_path.iterdir())
    assert files == sorted(writer.files_closed)
    assert len(files) >= 3
    assert not any(p.name.endswith(".open") for p in files)
    serials = [p.name.split("-")[2] for p in files]
    assert serials == [f"{n:05d}" for n in range(len(files))]

    found = {}
    for path in files:
        records = read_records(path)
        assert records[0].rec_type == "warcinfo"
        assert records[0].headers["WARC-Filename"] == path.name
        assert [r.rec_type for r in records[1:]] == ["response", "request"] * (
            (len(records) - 1) // 2
        )
        for response, request in zip(records[1::2], records[2::2], strict=True):
            assert request.headers["WARC-Concurrent-To"] == response.headers["WARC-Record-ID"]
            found[response.headers["WARC-Record-ID"]] = (path.name, response.offset)
        # rotated files reached the limit; only the last may be smaller
        if path != files[-1]:
            assert path.stat().st_size >= 3000

    assert found == {p.record_id: (p.filename, p.offset) for p in pointers}
    assert writer.bytes_written == sum(p.stat().st_size for p in files)
    assert writer.records_written == len(files) + 2 * len(pointers)


def test_oversized_exchange_is_written_alone(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, max_size=100)
    big = write_page(writer, "/big.html", body=os.urandom(5000))
    small = write_page(writer, "/small.html")
    writer.close()

    assert big.filename != small.filename
    assert writer.files_written == 2
    big_records = read_records(tmp_path / big.filename)
    assert [r.rec_type for r in big_records] == ["warcinfo", "response", "request"]
    assert len(big_records[1].raw) == 5000


def test_write_after_close_opens_the_next_serial(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    first = write_page(writer)
    writer.close()
    second = write_page(writer)
    writer.close()
    assert first.filename.split("-")[2] == "00000"
    assert second.filename.split("-")[2] == "00001"


def test_warcio_check_passes_on_every_file(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, max_size=2000)
    write_page(writer, response_headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    write_page(
        writer,
        "/gz.html",
        response_headers=[("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")],
        body=gzip.compress(HTML),
    )
    write_page(writer, "/big.html", body=os.urandom(4000))
    write_page(writer, "/empty.html", status=204, reason="No Content", body=b"")
    writer.close()

    assert len(writer.files_closed) >= 2
    for path in writer.files_closed:
        result = warcio_check(path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "digest pass" in result.stdout


@pytest.mark.skipif(sys.platform != "linux", reason="uses RLIMIT_FSIZE to make writes fail")
def test_failed_write_leaves_a_valid_file_behind(tmp_path: Path) -> None:
    # A real write failure, without mocks: a child process whose file size limit is
    # reached mid-record gets EFBIG, like a full disk would give ENOSPC.
    script = textwrap.dedent(
        """
        import os, resource, signal, sys
        from storage.warc import WarcWriter

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        writer = WarcWriter(sys.argv[1], hostname="h")
        page = dict(method="GET", request_headers=[], request_body=b"", protocol="HTTP/1.1",
                    status=200, reason="OK", response_headers=[])
        writer.write_exchange(url="http://example.vn/ok", body=b"fits", **page)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            writer.write_exchange(url="http://example.vn/big", body=os.urandom(8000), **page)
        except OSError as error:
            print("failed:", error.errno)
        writer.write_exchange(url="http://example.vn/after", body=b"still fits", **page)
        writer.close()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("failed:")

    (path,) = tmp_path.iterdir()
    assert warcio_check(path).returncode == 0
    uris = [r.headers.get("WARC-Target-URI") for r in read_records(path)]
    assert uris == [
        None,
        "http://example.vn/ok",
        "http://example.vn/ok",
        "http://example.vn/after",
        "http://example.vn/after",
    ]


def test_max_size_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_size"):
        WarcWriter(tmp_path, max_size=0)


def test_same_payload_again_is_a_revisit_that_refers_to_the_original(tmp_path: Path) -> None:
    index = DigestIndex(tmp_path / "digests.sqlite3")
    with make_writer(tmp_path, digest_index=index) as writer:
        original = write_page(writer, "/a.html")
        again = write_page(writer, "/a.html")  # same file: the writer's own pending digests
        error = write_page(writer, "/gone.html", status=404, reason="Not Found")
        error_again = write_page(writer, "/gone.html", status=404, reason="Not Found")
    assert (original.record_type, again.record_type) == ("response", "revisit")
    assert again.refers_to == original.record_id
    assert error.record_type == error_again.record_type == "response"
    assert len(index) == 1  # indexed once the file was closed

    # The next crawl (a new writer) finds the original in the index.
    with make_writer(tmp_path / "next", digest_index=index) as writer:
        next_crawl = write_page(writer, "/a.html")
    index.close()
    assert next_crawl.record_type == "revisit" and next_crawl.refers_to == original.record_id

    records = {r.headers["WARC-Record-ID"]: r for r in read_records(tmp_path / again.filename)}
    revisit = records[again.record_id]
    assert revisit.rec_type == "revisit"
    assert revisit.headers["WARC-Profile"] == (
        "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    )
    assert revisit.headers["WARC-Refers-To"] == original.record_id
    assert revisit.headers["WARC-Refers-To-Target-URI"] == original.target_uri
    original_date = records[original.record_id].headers["WARC-Date"]
    assert revisit.headers["WARC-Refers-To-Date"] == original_date
    assert revisit.headers["WARC-Payload-Digest"] == sha1_base32(HTML)
    assert revisit.content == b""  # HTTP headers only
    assert revisit.http_headers.get_header("Content-Type") == "text/html; charset=utf-8"
    for path in (tmp_path / again.filename, tmp_path / "next" / next_crawl.filename):
        assert warcio_check(path).returncode == 0


def test_the_originals_of_the_open_file_are_not_held_in_memory(tmp_path: Path) -> None:
    """A 1 GB file holds tens of thousands of originals: memory must not grow with them."""
    index = DigestIndex(tmp_path / "digests.sqlite3")
    with make_writer(tmp_path, digest_index=index) as writer:
        first = write_page(writer, "/0.html", body=b"<p>page 0</p>")
        tracemalloc.start()
        for number in range(1, 500):
            write_page(writer, f"/{number}.html", body=f"<p>page {number}</p>".encode())
        before = tracemalloc.get_traced_memory()[0]
        for number in range(500, 3000):
            write_page(writer, f"/{number}.html", body=f"<p>page {number}</p>".encode())
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        again = write_page(writer, "/again.html", body=b"<p>page 0</p>")
        assert len(index) == 0  # nothing indexed while the file is open
    assert grown / 2500 < 100, f"{grown / 2500:.0f} bytes kept per original"
    assert again.record_type == "revisit" and again.refers_to == first.record_id
    assert len(index) == 3000
    index.close()


def test_metadata_record_is_concurrent_to_its_response(tmp_path: Path) -> None:
    with make_writer(tmp_path) as writer:
        pointer = write_page(writer)
        metadata_id = writer.write_metadata(
            url=pointer.target_uri,
            concurrent_to=pointer.record_id,
            fields=[("outlink", "https://baonamdinh.vn/a.html"),
                    ("outlink", "https://baonamdinh.vn/b.html"),
                    ("article-title", "Tin, ảnh:\nNam Định")],
        )
    metadata = read_records(tmp_path / pointer.filename)[-1]
    assert metadata.rec_type == "metadata"
    assert metadata.headers["WARC-Record-ID"] == metadata_id
    assert metadata.headers["WARC-Concurrent-To"] == pointer.record_id
    assert metadata.headers["Content-Type"] == "application/warc-fields"
    assert metadata.content.decode("utf-8").splitlines() == [
        "outlink: https://baonamdinh.vn/a.html",
        "outlink: https://baonamdinh.vn/b.html",
        "article-title: Tin, ảnh: Nam Định",
    ]
    assert warcio_check(tmp_path / pointer.filename).returncode == 0


@pytest.mark.parametrize("level", [0, 1, 9])
def test_compression_level_is_chosen_and_files_stay_valid(tmp_path: Path, level: int) -> None:
    body = ("<p>Nam Định</p>" * 2000).encode()
    with make_writer(tmp_path, compression_level=level) as writer:
        pointer = write_page(writer, body=body)
    path = tmp_path / pointer.filename
    assert warcio_check(path).returncode == 0
    assert read_records(path)[1].content == body
    if level == 0:
        assert path.stat().st_size > len(body)
    else:
        assert path.stat().st_size < len(body) / 10


def test_compression_level_out_of_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="0-9"):
        WarcWriter(tmp_path, compression_level=10)


def test_records_are_the_bytes_warcio_would_write(tmp_path: Path) -> None:
    from warcio.warcwriter import WARCWriter

    from tests.warc_reference import RawHttpHeaders as _RawHttpHeaders

    url = "https://baonamdinh.vn/tìm-kiếm?q=nông+nghiệp"
    with make_writer(tmp_path) as writer:
        pointer = write_page(writer, url.removeprefix("https://baonamdinh.vn"),
                             method="POST", request_body=b"q=1", truncated="length")
    records = read_records(tmp_path / pointer.filename)
    ours = gzip.decompress((tmp_path / pointer.filename).read_bytes()[pointer.offset:])

    reference = io.BytesIO()
    builder = WARCWriter(reference, gzip=False, warc_version="WARC/1.1")
    for record in records[1:]:
        headers = {k: v for k, v in record.headers.items()
                   if k not in ("WARC-Block-Digest", "Content-Type", "Content-Length")
                   and not (k == "WARC-Payload-Digest" and record.rec_type == "request")}
        http = record.http_headers
        builder.write_record(builder.create_warc_record(
            url, record.rec_type, payload=io.BytesIO(record.raw), length=len(record.raw),
            warc_headers_dict=headers,
            http_headers=_RawHttpHeaders(http.statusline, http.headers, http.protocol),
        ))
    assert ours == reference.getvalue()


def test_base32_digests_match_the_standard_encoding() -> None:
    from storage.warc_records import payload_digest
    from storage.warc_records import sha1_base32 as fast_base32

    for size in range(0, 300, 7):
        data = os.urandom(size)
        digest = hashlib.sha1(data).digest()
        assert fast_base32(digest) == base64.b32encode(digest).decode("ascii")
        assert payload_digest(data) == sha1_base32(data)
    assert fast_base32(b"\xff" * 20) == "7" * 32 and fast_base32(b"\x00" * 20) == "A" * 32


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_gzip_members_are_the_bytes_of_a_full_window_compressor(level: int) -> None:
    import zlib

    from storage.warc_records import gzip_member

    text = b" ".join(b"tin %d nam dinh %d" % (i, i * i % 97) for i in range(3000))
    noise = os.urandom(40_000)
    # Around every window size the writer may pick (1 KB to 32 KB, less 262 bytes).
    sizes = {0, 1, 100, 70_000}
    for bits in range(10, 16):
        sizes.update({(1 << bits) - 263, (1 << bits) - 262, (1 << bits) - 261})
    for size in sorted(sizes):
        for data in (text[:size], noise[:size], (text[: size // 2] + noise)[:size]):
            compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
            assert gzip_member(data, level) == compressor.compress(data) + compressor.flush()
            assert gzip.decompress(gzip_member(data, level)) == data


def test_header_lines_are_latin_1_each_or_else_utf_8() -> None:
    from storage.warc_records import http_head_bytes

    headers = [("X-Latin", "caf\xe9"), ("X-Text", "Nam Định")]
    assert http_head_bytes("HTTP/1.1 200 OK", headers) == (
        b"HTTP/1.1 200 OK\r\nX-Latin: caf\xe9\r\n" + "X-Text: Nam Định".encode() + b"\r\n\r\n"
    )
    assert http_head_bytes("GET / HTTP/1.1", []) == b"GET / HTTP/1.1\r\n\r\n"


def test_default_record_ids_are_random_uuid_urns() -> None:
    import uuid

    from storage.warc_records import new_record_id as _new_record_id

    ids = [_new_record_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for record_id in ids:
        assert record_id.startswith("<urn:uuid:") and record_id.endswith(">")
        parsed = uuid.UUID(record_id[len("<urn:uuid:"):-1])
        assert str(parsed) == record_id[len("<urn:uuid:"):-1]
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_revisit_records_are_the_bytes_warcio_would_write(tmp_path: Path) -> None:
    from warcio.warcwriter import WARCWriter

    from tests.warc_reference import RawHttpHeaders as _RawHttpHeaders

    index = DigestIndex(tmp_path / "digests.sqlite3")
    with make_writer(tmp_path, digest_index=index) as writer:
        original = write_page(writer, "/a.html")
        again = write_page(writer, "/b.html", ip_address=None,
                           response_headers=[("Content-Type", "text/html"),
                                             ("Transfer-Encoding", "chunked")])
    index.close()
    assert again.record_type == "revisit"
    data = (tmp_path / again.filename).read_bytes()
    ours = gzip.decompress(data[again.offset:again.offset + again.length])
    revisit = next(r for r in read_records(tmp_path / again.filename)
                   if r.headers["WARC-Record-ID"] == again.record_id)

    reference = io.BytesIO()
    builder = WARCWriter(reference, gzip=False, warc_version="WARC/1.1")
    generated = ("WARC-Profile", "WARC-Refers-To-Target-URI", "WARC-Refers-To-Date",
                 "WARC-Payload-Digest", "WARC-Block-Digest", "Content-Type", "Content-Length")
    http = revisit.http_headers
    builder.write_record(builder.create_revisit_record(
        again.target_uri, again.payload_digest, original.target_uri,
        revisit.headers["WARC-Refers-To-Date"],
        http_headers=_RawHttpHeaders(http.statusline, http.headers, http.protocol),
        warc_headers_dict={k: v for k, v in revisit.headers.items() if k not in generated},
    ))
    assert ours == reference.getvalue()


def test_metadata_records_are_the_bytes_warcio_would_write(tmp_path: Path) -> None:
    from warcio.warcwriter import WARCWriter

    fields = [("outlink", "https://baonamdinh.vn/b.html"), ("title", "Tin, ảnh: Nam Định")]
    with make_writer(tmp_path) as writer:
        pointer = write_page(writer)
        offset = writer.bytes_written
        record_id = writer.write_metadata(url=pointer.target_uri,
                                          concurrent_to=pointer.record_id, fields=fields)
    ours = gzip.decompress((tmp_path / pointer.filename).read_bytes()[offset:])
    metadata = read_records(tmp_path / pointer.filename)[-1]
    assert metadata.headers["WARC-Record-ID"] == record_id

    reference = io.BytesIO()
    builder = WARCWriter(reference, gzip=False, warc_version="WARC/1.1")
    generated = ("WARC-Payload-Digest", "WARC-Block-Digest", "Content-Type", "Content-Length")
    block = "".join(f"{name}: {value}\r\n" for name, value in fields).encode()
    builder.write_record(builder.create_warc_record(
        pointer.target_uri, "metadata", payload=io.BytesIO(block), length=len(block),
        warc_content_type="application/warc-fields",
        warc_headers_dict={k: v for k, v in metadata.headers.items() if k not in generated},
    ))
    assert ours == reference.getvalue()


def read_at(directory: Path, where: dict) -> bytes:
    """The payload of the record at a pointer's (or an ``original``'s) place, as warcio reads it."""
    with (directory / where["filename"]).open("rb") as stream:
        stream.seek(where["offset"])
        member = stream.read(where["length"])
    return next(iter(ArchiveIterator(io.BytesIO(member)))).content_stream().read()


def test_a_revisit_pointer_names_where_the_payload_is(tmp_path: Path) -> None:
    index = DigestIndex(tmp_path / "digests.sqlite3")
    with make_writer(tmp_path, digest_index=index) as writer:
        original = write_page(writer, "/a.html")
        same_file = write_page(writer, "/a.html")
    with make_writer(tmp_path, digest_index=index, prefix="next") as writer:
        next_crawl = write_page(writer, "/b.html")
    index.close()
    assert original.original is None and original.date
    for revisit in (same_file, next_crawl):
        assert revisit.record_type == "revisit" and read_at(tmp_path, revisit.as_dict()) == b""
        assert revisit.original == {
            "filename": original.filename, "record_id": original.record_id,
            "offset": original.offset, "length": original.length, "date": original.date,
            "target_uri": original.target_uri,
        }
        assert read_at(tmp_path, revisit.original) == HTML


def test_a_digest_index_from_before_locations_is_completed(tmp_path: Path) -> None:
    import sqlite3

    with make_writer(tmp_path) as writer:
        original = write_page(writer, "/a.html")
    old = tmp_path / "old.sqlite3"
    with sqlite3.connect(old) as db:  # the schema of earlier versions
        db.execute("CREATE TABLE payload_digests (digest TEXT PRIMARY KEY, record_id TEXT NOT NULL,"
                   " target_uri TEXT NOT NULL, warc_date TEXT NOT NULL, filename TEXT NOT NULL)")
        db.execute("INSERT INTO payload_digests VALUES (?, ?, ?, ?, ?)",
                   (original.payload_digest, original.record_id, original.target_uri,
                    original.date, original.filename))
    db.close()
    index = DigestIndex(old)
    assert index.lookup(original.payload_digest).offset is None
    assert index.locate_missing(tmp_path) == 1
    found = index.lookup(original.payload_digest)
    assert (found.offset, found.length) == (original.offset, original.length)
    with make_writer(tmp_path / "next", digest_index=index) as writer:
        revisit = write_page(writer, "/a.html")
    index.close()
    assert read_at(tmp_path, revisit.original) == HTML


def test_a_304_given_the_capture_it_confirms_is_a_server_not_modified_revisit(
    tmp_path: Path,
) -> None:
    from storage.warc_digests import OriginalCapture

    with make_writer(tmp_path) as writer:
        original = write_page(writer, "/a.html")
        confirmed = OriginalCapture(original.payload_digest, original.record_id,
                                    original.target_uri, original.date, original.filename,
                                    original.offset, original.length)
        not_modified = write_page(writer, "/a.html", status=304, reason="Not Modified",
                                  body=b"", confirms=confirmed)
        plain = write_page(writer, "/b.html", status=304, reason="Not Modified", body=b"")
    records = {r.headers["WARC-Record-ID"]: r for r in read_records(tmp_path / original.filename)}
    revisit = records[not_modified.record_id]
    assert revisit.rec_type == "revisit" and revisit.content == b""
    assert revisit.headers["WARC-Profile"] == (
        "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
    )
    assert revisit.headers["WARC-Refers-To"] == original.record_id
    assert revisit.headers["WARC-Refers-To-Date"] == original.date
    assert revisit.headers["WARC-Payload-Digest"] == original.payload_digest
    assert revisit.http_headers.get_statuscode() == "304"
    assert read_at(tmp_path, not_modified.original) == HTML
    assert records[plain.record_id].rec_type == "response"  # nothing to confirm
    assert warcio_check(tmp_path / original.filename).returncode == 0
