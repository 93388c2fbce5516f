"""Payload-digest index of archived responses, for revisit records across crawls.

:class:`DigestIndex` is a small SQLite table mapping a response's payload digest
(``sha1:<base32>``, as in ``WARC-Payload-Digest``) to the record that first archived
that payload: its ``WARC-Record-ID``, target URI, ``WARC-Date`` and file name.  The
WARC writer asks it before writing a response; a hit becomes a ``revisit`` record
(identical-payload-digest profile) that refers to the original.

The writer only adds entries for records in files it has closed (flushed, fsynced
and renamed), so the index never names a record that a crash could still lose.
Deleting the database file is safe: the next crawl archives full responses again.

:class:`RedisDigestIndex` is the same index in a Redis hash (one JSON value per digest), shared by
the workers of one crawl on any number of machines (``REDIS_URL``, ``crawler/frontier.py``): a page
archived by one worker is a revisit for all, once the file holding it is closed.

This module reads no settings and has no Scrapy imports.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from storage.backends import add_columns, use_wal
from storage.warc_records import EMPTY_PAYLOAD_DIGEST

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payload_digests (
    digest TEXT PRIMARY KEY,
    record_id TEXT NOT NULL,
    target_uri TEXT NOT NULL,
    warc_date TEXT NOT NULL,
    filename TEXT NOT NULL,
    record_offset INTEGER,
    record_length INTEGER
)
"""
# Indexes made before originals carried their place in the file lack these two columns.
_LOCATION_COLUMNS = ("record_offset", "record_length")


@dataclass(frozen=True)
class OriginalCapture:
    """The first record that archived a payload: what a revisit record refers to.

    ``offset`` and ``length`` delimit the record's gzip member in ``filename``, so a revisit's
    pointer leads to the payload in one step (``None`` only while an index made before they were
    kept has not been completed by `DigestIndex.locate_missing`).
    """

    digest: str
    record_id: str
    target_uri: str
    warc_date: str
    filename: str
    offset: int | None = None
    length: int | None = None

    def location(self) -> dict[str, Any]:
        """Where the payload is, in the shape of a `WarcPointer`'s ``original``."""
        return {
            "filename": self.filename, "record_id": self.record_id, "offset": self.offset,
            "length": self.length, "date": self.warc_date, "target_uri": self.target_uri,
        }


def originals_in(path: Path) -> Iterator[OriginalCapture]:
    """Yield the responses of a closed WARC file that may serve as originals.

    The same rule as the writer's: a complete 2xx response with a non-empty body.  Used
    to index a file recovered after a crash, whose digests the crashed writer never indexed.
    """
    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        for record in records:
            headers = record.rec_headers
            if record.rec_type != "response" or headers.get_header("WARC-Truncated"):
                continue
            status = record.http_headers.get_statuscode() if record.http_headers else ""
            digest = headers.get_header("WARC-Payload-Digest")
            # An empty body is never an original.
            if not status.startswith("2") or not digest or digest == EMPTY_PAYLOAD_DIGEST:
                continue
            records.read_to_end(record)
            yield OriginalCapture(
                digest, headers.get_header("WARC-Record-ID"), headers.get_header("WARC-Target-URI"),
                headers.get_header("WARC-Date"), path.name, records.get_record_offset(),
                records.get_record_length(),
            )


class PendingOriginals:
    """Originals archived in a WARC file still being written, until the file is closed.

    They may not enter the `DigestIndex` yet (a crash could still lose them), and a file of 1 GB
    holds tens of thousands: as objects they cost ~600 bytes each, the growth of a long crawl's
    memory (``docs/scale.md``). They are kept in a private temporary SQLite file instead (deleted
    when closed or when the process dies), behind a small page cache: bounded memory, a few
    microseconds per capture.
    """

    # Pages of the temporary file kept in memory (KiB, as PRAGMA cache_size takes it negated).
    CACHE_KIB = 256
    # Captures handed to the index per transaction when the file closes.
    BATCH = 1000

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            # "": a private database in a temporary file, gone with the connection.
            self._db = sqlite3.connect("", isolation_level=None)
            self._db.execute(f"PRAGMA cache_size = -{self.CACHE_KIB}")
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute(
                "CREATE TABLE pending (digest TEXT PRIMARY KEY, record_id TEXT, target_uri TEXT,"
                " warc_date TEXT, filename TEXT, record_offset INTEGER, record_length INTEGER)"
                " WITHOUT ROWID")
            # One transaction for the file's life, never committed: no one else reads it, and a
            # commit per capture cost ~20 µs.
            self._db.execute("BEGIN")
        return self._db

    def add(self, capture: OriginalCapture) -> None:
        """Hold ``capture`` (the first capture of a digest wins)."""
        self._open().execute(
            "INSERT OR IGNORE INTO pending VALUES (?, ?, ?, ?, ?, ?, ?)",
            (capture.digest, capture.record_id, capture.target_uri, capture.warc_date,
             capture.filename, capture.offset, capture.length))

    def get(self, digest: str) -> OriginalCapture | None:
        """The held capture of ``digest``, if any."""
        if self._db is None:
            return None
        row = self._db.execute("SELECT * FROM pending WHERE digest = ?", (digest,)).fetchone()
        return OriginalCapture(*row) if row else None

    def __len__(self) -> int:
        if self._db is None:
            return 0
        return self._db.execute("SELECT COUNT(*) FROM pending").fetchone()[0]

    def move_to(self, index: DigestIndex) -> None:
        """Hand every held capture to ``index`` (a few at a time), and hold none."""
        if self._db is None:
            return
        rows = self._db.execute("SELECT * FROM pending")
        while batch := rows.fetchmany(self.BATCH):
            index.add_many(OriginalCapture(*row) for row in batch)
        self.clear()

    def clear(self) -> None:
        """Forget every held capture (their file is abandoned, or indexed)."""
        if self._db is not None:
            self._db.close()
            self._db = None


class DigestIndex:
    """Look up and remember payload digests in an SQLite file."""

    def __init__(self, path: str | Path) -> None:
        """Open (or create) the index at ``path``."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(self.path)
        # WAL: a reader (e.g. a report) never blocks the crawl's writes.
        # (Crawls of several sites into one archive may open it at the same moment.)
        use_wal(self._connection)
        self._connection.execute(_SCHEMA)
        self._connection.commit()
        add_columns(self._connection, "payload_digests",
                    [(column, "INTEGER") for column in _LOCATION_COLUMNS])

    def lookup(self, digest: str) -> OriginalCapture | None:
        """Return the original capture of ``digest``, or ``None`` if it was never archived."""
        row = self._connection.execute(
            "SELECT digest, record_id, target_uri, warc_date, filename, record_offset,"
            " record_length FROM payload_digests WHERE digest = ?",
            (digest,),
        ).fetchone()
        return OriginalCapture(*row) if row else None

    def add_many(self, captures: Iterable[OriginalCapture]) -> None:
        """Remember ``captures`` (the first capture of a digest wins) and commit."""
        with self._connection:
            self._connection.executemany(
                "INSERT OR IGNORE INTO payload_digests (digest, record_id, target_uri, warc_date,"
                " filename, record_offset, record_length) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (c.digest, c.record_id, c.target_uri, c.warc_date, c.filename, c.offset,
                     c.length)
                    for c in captures
                ],
            )

    def locate_missing(self, warc_dir: str | Path) -> int:
        """Fill in where each original lies in its file, for entries indexed without it.

        Reads each file named by such entries once (an index made before this was kept); returns
        how many entries were completed. Files that are gone are left as they are.
        """
        filenames = [row[0] for row in self._connection.execute(
            "SELECT DISTINCT filename FROM payload_digests WHERE record_offset IS NULL")]
        completed = 0
        for filename in filenames:
            path = Path(warc_dir) / filename
            if not path.exists():
                continue
            with self._connection:
                for capture in originals_in(path):
                    completed += self._connection.execute(
                        "UPDATE payload_digests SET record_offset = ?, record_length = ?"
                        " WHERE record_id = ? AND record_offset IS NULL",
                        (capture.offset, capture.length, capture.record_id),
                    ).rowcount
        return completed

    def target_uris(self) -> Iterator[str]:
        """Yield the target URI of every original capture (streamed, in no particular order)."""
        for (uri,) in self._connection.execute("SELECT target_uri FROM payload_digests"):
            yield uri

    def __len__(self) -> int:
        """Return how many payloads the index knows."""
        return self._connection.execute("SELECT COUNT(*) FROM payload_digests").fetchone()[0]

    def close(self) -> None:
        """Close the database."""
        self._connection.close()


#: The Redis hash of `RedisDigestIndex` unless told otherwise.
DEFAULT_REDIS_KEY = "warc:digests"


class RedisDigestIndex:
    """`DigestIndex`'s interface on a Redis hash, for many workers on one crawl."""

    def __init__(self, url: str, key: str = DEFAULT_REDIS_KEY) -> None:
        """Connect to the Redis server at ``url``; the index is the hash ``key``."""
        import redis

        self.url = url
        self.key = key
        self._redis = redis.Redis.from_url(url)

    def lookup(self, digest: str) -> OriginalCapture | None:
        """Return the original capture of ``digest``, or ``None`` if it was never archived."""
        value = self._redis.hget(self.key, digest)
        return OriginalCapture(**json.loads(value)) if value else None

    def add_many(self, captures: Iterable[OriginalCapture]) -> None:
        """Remember ``captures``; the first capture of a digest wins, whichever worker wrote it."""
        with self._redis.pipeline(transaction=False) as pipe:
            for capture in captures:
                pipe.hsetnx(self.key, capture.digest, json.dumps(capture.__dict__))
            pipe.execute()

    def locate_missing(self, warc_dir: str | Path) -> int:
        """Nothing to complete: entries always carry their place in the file."""
        return 0

    def target_uris(self) -> Iterator[str]:
        """Yield the target URI of every original capture (streamed, in no particular order)."""
        for _, value in self._redis.hscan_iter(self.key, count=1000):
            yield json.loads(value)["target_uri"]

    def __len__(self) -> int:
        """Return how many payloads the index knows."""
        return self._redis.hlen(self.key)

    def close(self) -> None:
        """Close the connection."""
        self._redis.close()
