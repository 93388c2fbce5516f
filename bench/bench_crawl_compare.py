"""Compare the records of two crawls of the same replica: WARC records and article rows.

Run from the project root::

    python bench/bench_crawl_compare.py ARCHIVE_A ARCHIVE_B

Each WARC record is keyed by its type and target URL; what a run cannot repeat is left out
(``WARC-Date``, record ids and the ids records point at, the file and offset of a capture, the
HTTP ``Date``, ``ETag``, ``Content-Length`` and ``Referer`` headers (see `RUN_HTTP_HEADERS`), a
metadata record's ``fetchTimeMs``, the replica's port and the fetch times of article rows);
everything else (every other header, the payload bytes, every article column and every stored
version) must be equal. Prints the differences and exits 1 when there are any. Not a test.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

# WARC headers that differ between two runs of the same crawl.
RUN_HEADERS = {"warc-date", "warc-record-id", "warc-concurrent-to", "warc-refers-to",
               "warc-warcinfo-id", "warc-filename", "warc-block-digest", "content-length",
               # Digests of payloads that name the port; the payloads themselves are compared.
               "warc-payload-digest"}
# HTTP headers that differ between runs: the date; the ETag and compressed length of a page that
# names the replica's port (its payload is compared, port aside); and the Referer, since which of
# a sitemap, a feed or a listing names an article first is a race between their responses.
RUN_HTTP_HEADERS = {"date", "etag", "content-length", "referer"}
# Article columns (and WARC pointer keys) that differ between runs.
RUN_COLUMNS = {"fetched", "first_fetched"}
# Each run's replica listens on a port of its own.
ORIGIN = re.compile(rb"(?:http://)?127\.0\.0\.1:\d+")
ORIGIN_TEXT = re.compile(ORIGIN.pattern.decode())
FETCH_TIME = re.compile(rb"fetchTimeMs: \d+")
RUN_POINTER_KEYS = {"filename", "offset", "record_id", "length", "date", "refers_to", "original",
                    "payload_digest"}


def warc_records(archive: Path) -> dict[tuple[str, str], list[tuple]]:
    """Every record but warcinfo, normalized, by (type, target URL)."""
    records: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for path in sorted((archive / "warc").rglob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "warcinfo":
                    continue
                headers = tuple(sorted(
                    (name.lower(), _text(value)) for name, value in record.rec_headers.headers
                    if name.lower() not in RUN_HEADERS))
                http = ()
                if record.http_headers is not None:
                    http = (record.http_headers.statusline, tuple(
                        (name.lower(), _text(value))
                        for name, value in record.http_headers.headers
                        if name.lower() not in RUN_HTTP_HEADERS))
                payload = ORIGIN.sub(b"ORIGIN", record.content_stream().read())
                if record.rec_type == "metadata":
                    # How long the fetch took; the payload digest covers it.
                    payload = FETCH_TIME.sub(b"fetchTimeMs: N", payload)
                uri = _text(record.rec_headers.get_header("WARC-Target-URI") or "")
                records[(record.rec_type, uri)].append((headers, http, payload))
    return {key: sorted(values) for key, values in records.items()}


def _text(value: str) -> str:
    return ORIGIN_TEXT.sub("ORIGIN", value)


def _pointer(value: str | None) -> object:
    if not value:
        return value
    pointer = json.loads(value)
    return {key: item for key, item in pointer.items() if key not in RUN_POINTER_KEYS}


def article_rows(archive: Path) -> dict[str, dict]:
    """Every article row and its stored versions, without what differs between runs."""
    db = sqlite3.connect(archive / "articles.sqlite3")
    db.row_factory = sqlite3.Row
    rows = {}
    for row in db.execute("SELECT * FROM articles"):
        record = {key: _text(row[key]) if isinstance(row[key], str) else row[key]
                  for key in row.keys() if key not in RUN_COLUMNS}
        record["warc"] = _pointer(record["warc"])
        record["versions"] = []
        for version in db.execute(
                "SELECT version, content_hash, record FROM article_versions "
                "WHERE canonical_url = ? ORDER BY version", (row["canonical_url"],)):
            stored = json.loads(_text(version["record"]))
            stored = {key: value for key, value in stored.items() if key not in RUN_COLUMNS}
            stored["warc"] = _pointer(json.dumps(stored.get("warc")))
            record["versions"].append((version["version"], version["content_hash"], stored))
        rows[_text(row["canonical_url"])] = record
    db.close()
    return rows


def main() -> None:
    first, second = (Path(arg) for arg in sys.argv[1:3])
    differences = 0
    records_a, records_b = warc_records(first), warc_records(second)
    for key in sorted(set(records_a) | set(records_b)):
        a, b = records_a.get(key), records_b.get(key)
        if a != b:
            differences += 1
            if differences <= 20:
                print(f"WARC {key[0]} {key[1]}: {len(a or [])} vs {len(b or [])} records differ")
                if a and b and len(a) == len(b):
                    for (ha, xa, pa), (hb, xb, pb) in zip(a, b, strict=True):
                        if ha != hb:
                            print("  headers:", set(ha) ^ set(hb))
                        if xa != xb:
                            print("  http:", xa, xb)
                        if pa != pb:
                            print("  payload:", pa[:300], pb[:300])
    rows_a, rows_b = article_rows(first), article_rows(second)
    for key in sorted(set(rows_a) | set(rows_b)):
        a, b = rows_a.get(key), rows_b.get(key)
        if a != b:
            differences += 1
            if differences <= 40:
                changed = sorted(k for k in set(a or {}) | set(b or {})
                                 if (a or {}).get(k) != (b or {}).get(k))
                print(f"article {key}: columns differ: {changed}")
    count = sum(len(values) for values in records_a.values())
    print(f"{count} WARC records ({len(records_a)} keys) and {len(rows_a)} articles compared: "
          f"{differences} differences")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
