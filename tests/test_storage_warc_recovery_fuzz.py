"""Fuzz storage.warc_recovery: hundreds of damaged WARC and ARC files, not one valid record lost.

Real files (written by our ``WarcWriter`` and by warcio, compressed and not, and ARC files)
are cut, zeroed, bit-flipped, and given garbage at the end or inside, by a seeded RNG: a
failure names its case, and ``FUZZ_CASE=<n>`` reruns that one.  After recovery:

* every record of the original that is still intact in the damaged file and that warcio
  reads on its own (a gzip member, or an uncompressed record with its blank lines) is in
  the recovered file, byte for byte;
* the recovered file, the quarantined spans and the report rebuild the damaged file
  exactly (no byte lost), and the recovered file passes ``warcio check``;
* a file with no readable WARC record (the ARC files, say) is left exactly as it was.
"""

from __future__ import annotations

import gzip
import os
import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from storage.warc import WarcWriter
from storage.warc_digests import DigestIndex
from tests.test_storage_warc_recovery import (
    arc_records,
    assert_nothing_lost,
    readable_alone,
    recover_copy,
    units,
    warcio_file,
)

CASES = 240
SEED = 20240611


def our_file(directory: Path) -> bytes:
    """A file of our writer: responses of every kind of body, revisits, metadata."""
    rng = random.Random(SEED)
    moments = iter(datetime(2024, 6, 11, tzinfo=timezone.utc) + timedelta(seconds=s)
                   for s in range(10_000))
    index = DigestIndex(directory / "digests.sqlite3")
    writer = WarcWriter(
        directory, prefix="fuzz", hostname="box", clock=lambda: next(moments),
        record_id_factory=lambda: f"<urn:uuid:{rng.getrandbits(128):032x}>", digest_index=index,
    )
    bodies = [
        "<html><body>Tin tức tỉnh Nam Định</body></html>".encode() * 40,
        rng.randbytes(6000),  # an image: incompressible
        b"",
        gzip.compress(b"<p>gzip-encoded page</p>" * 50),  # a gzip magic inside a record
        b"WARC/1.1\r\nContent-Length: 5\r\n\r\nfalse",  # a WARC line inside a record
    ]
    for number in range(14):
        body = bodies[number % len(bodies)]  # repeats become revisits
        pointer = writer.write_exchange(
            url=f"http://127.0.0.1/bai-{number}.html", method="GET",
            request_headers=[("Host", "127.0.0.1")], request_body=b"", protocol="HTTP/1.1",
            status=200, reason="OK", response_headers=[("Content-Type", "text/html")], body=body,
            truncated="length" if number == 6 else None,
        )
        if number % 3 == 0:
            writer.write_metadata(url=f"http://127.0.0.1/bai-{number}.html",
                                  concurrent_to=pointer.record_id, fields=[("outlink", "x")])
    writer.close()
    index.close()
    [path] = writer.files_closed
    return path.read_bytes()


def uncompressed(data: bytes) -> bytes:
    """The same records, each gzip member inflated: an uncompressed WARC."""
    return b"".join(gzip.decompress(member) for member in units(data))


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, tuple[str, bytes]]:
    """Sound files to damage: kind -> (file name, bytes)."""
    ours = our_file(tmp_path_factory.mktemp("ours"))
    files = {
        "ours": ("ours.warc.gz.open", ours),
        "ours-uncompressed": ("ours.warc.open", uncompressed(ours)),
        "warcio": ("warcio.warc.gz.open", warcio_file(compressed=True, chunked=True, pages=5)),
        "warcio-uncompressed": ("warcio.warc.open", warcio_file(compressed=False, pages=5)),
        "arc": ("old.warc.gz.open", b"".join(gzip.compress(r) for r in arc_records(8))),
        "arc-uncompressed": ("old.warc.open", b"".join(arc_records(8))),
    }
    for kind, (_, data) in files.items():
        assert kind.startswith("arc") or all(readable_alone(unit) for unit in units(data)), kind
    return files


def garbage(rng: random.Random) -> bytes:
    """Bytes that tempt a resynchronisation: random, with gzip magic or WARC lines in them."""
    pieces = [rng.randbytes(rng.randrange(1, 3000))]
    if rng.random() < 0.5:
        pieces.append(b"\x1f\x8b\x08" + rng.randbytes(rng.randrange(0, 200)))
    if rng.random() < 0.3:
        pieces.append(gzip.compress(b"WARC/1.1\r\nContent-Length: 100\r\n\r\nshort"))
    if rng.random() < 0.3:
        pieces.append(b"WARC/1.0\r\nWARC-Type: resource\r\nContent-Length: 999999\r\n\r\n")
    rng.shuffle(pieces)
    return b"".join(pieces)


def cut(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(1, len(data))]


def zero(data: bytes, rng: random.Random) -> bytes:
    length = rng.randrange(1, 8192)
    start = rng.randrange(0, len(data))
    return data[:start] + bytes(min(length, len(data) - start)) + data[start + length:]


def flip(data: bytes, rng: random.Random) -> bytes:
    flipped = bytearray(data)
    for _ in range(rng.randrange(1, 5)):
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
    return bytes(flipped)


def append(data: bytes, rng: random.Random) -> bytes:
    return data + garbage(rng)


def insert(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(0, len(data))
    return data[:at] + garbage(rng) + data[at:]


DAMAGE: list[Callable[[bytes, random.Random], bytes]] = [cut, zero, flip, append, insert]


def damaged_case(number: int, originals: dict[str, tuple[str, bytes]]) -> tuple[str, str, bytes]:
    """Case ``number``: (kind, file name, damaged bytes); the same every run."""
    rng = random.Random(SEED * 1000 + number)
    kinds = sorted(originals)
    kind = kinds[number % len(kinds)]
    name, data = originals[kind]
    damages = [DAMAGE[number // len(kinds) % len(DAMAGE)]]  # each kind meets each damage
    damages += rng.choices(DAMAGE, k=rng.randrange(0, 3))
    for damage in damages:
        data = damage(data, rng)
    return kind, name, data


def test_recovery_loses_no_valid_record_and_no_byte(originals, tmp_path: Path) -> None:
    only = os.environ.get("FUZZ_CASE")
    numbers = [int(only)] if only else range(CASES)
    stats = {"recovered": 0, "untouched": 0, "damaged spans": 0, "records kept": 0}
    for number in numbers:
        kind, name, data = damaged_case(number, originals)
        _, original = originals[kind]
        must_keep = [unit for unit in units(original) if unit in data and readable_alone(unit)]
        directory = tmp_path / f"case-{number}"
        context = f"case {number} ({kind}): rerun with FUZZ_CASE={number}"

        result = recover_copy(directory, name, data)

        if result.final_path is None:
            assert not must_keep and not result.removed, context
            assert (directory / name).read_bytes() == data, context
            stats["untouched"] += 1
            continue
        assert not kind.startswith("arc"), context
        assert_nothing_lost(data, result, directory, context)
        kept = result.final_path.read_bytes()
        assert all(unit in kept for unit in must_keep), context
        assert result.records >= len(must_keep), context
        with result.final_path.open("rb") as stream:
            assert sum(1 for _ in ArchiveIterator(stream)) == result.records, context
        stats["recovered"] += 1
        stats["damaged spans"] += len(result.damaged)
        stats["records kept"] += result.records
    # The damage is varied enough that both outcomes occur, and damage is found.
    if not only:
        assert stats["recovered"] > CASES / 2 and stats["untouched"] >= CASES / 4, stats
        assert stats["damaged spans"] >= stats["recovered"], stats
    print(stats)

