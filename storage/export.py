"""Exports of the article store for researchers: JSON Lines, CSV and Parquet.

One Article per line (JSONL) or row (CSV, Parquet), UTF-8 and never ASCII-escaped, oldest
publication first. List fields are JSON inside a CSV cell; Parquet has typed columns (lists of
strings, images as a list of structs, the WARC pointer as a struct) with the schema
`parquet_schema()`, dates kept as their ISO 8601 text (a date alone stays a date, an offset stays
the page's).

CSV is for spreadsheets, which run a cell beginning with ``=``, ``+``, ``-``, ``@``, a tab, a
carriage return or a line feed as a formula: following OWASP's "CSV Injection" page, such a cell
gets a single quote in front (``'=1+2``), and every cell is quoted, so a separator inside a cell
(``;`` in locales whose spreadsheets split on it) cannot start a new cell. JSON Lines and
Parquet keep the text exactly.

The file is written under a hidden, locked temporary name beside its final name and renamed when
complete (``storage/partial.py``), so a reader never sees half an export, and what a killed
export leaves is taken over by the next export to the same file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from storage.articles import ARTICLE_FIELDS
from storage.partial import partial_file

FORMATS = ("jsonl", "csv", "parquet")
# Rows handed to the Parquet writer at a time: memory stays flat however large the store.
_PARQUET_BATCH_ROWS = 1000
# First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


@cache
def parquet_schema():
    """The Parquet export's columns (pyarrow is imported when a Parquet export is asked for)."""
    import pyarrow as pa

    text, texts = pa.string(), pa.list_(pa.string())
    columns = {name: text for name in ARTICLE_FIELDS}
    columns.update(
        authors=texts, tags=texts, version=pa.int32(),
        images=pa.list_(pa.struct([("src", text), ("caption", text), ("credit", text)])),
        warc=pa.struct([
            ("filename", text), ("record_id", text), ("offset", pa.int64()),
            ("length", pa.int64()), ("payload_digest", text), ("target_uri", text),
            ("record_type", text), ("refers_to", text), ("date", text),
            ("original", pa.struct([
                ("filename", text), ("record_id", text), ("offset", pa.int64()),
                ("length", pa.int64()), ("date", text), ("target_uri", text),
            ])),
        ]),
    )
    # Where the extractor found each value (docs/extraction.md).
    provenance = {
        "published_source": text, "modified_source": text, "dates_disagree": pa.bool_(),
        "published_zone_source": text, "modified_zone_source": text,
        "canonical_rejected": text, "canonical_claimed": text,
        "title_source": text, "lead_source": text, "body_source": text, "fallback": texts,
    }
    return pa.schema([*columns.items(), *provenance.items()])


def write_jsonl(records: Iterable[dict], handle) -> int:
    """Write records as JSON Lines; return how many."""
    count = 0
    for record in records:
        handle.write(json.dumps(record, ensure_ascii=False))
        handle.write("\n")
        count += 1
    return count


def csv_cell(value: object) -> object:
    """A value as a CSV cell: lists and objects as JSON, formula triggers made text."""
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def write_csv(records: Iterable[dict], handle) -> int:
    """Write the Article fields as CSV with a header row, every cell quoted; return the rows."""
    writer = csv.DictWriter(handle, fieldnames=ARTICLE_FIELDS, extrasaction="ignore",
                            quoting=csv.QUOTE_ALL)
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow({key: csv_cell(value) for key, value in record.items()})
        count += 1
    return count


def write_parquet(records: Iterable[dict], path) -> int:
    """Write records as Parquet (zstd, `parquet_schema()`) to a path or binary file; return rows.

    Keys outside the schema are left out (JSON Lines keeps every key).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    count, batch = 0, []
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for record in records:
            batch.append(record)
            count += 1
            if len(batch) == _PARQUET_BATCH_ROWS:
                writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))
                batch = []
        if batch or count == 0:
            writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))
    return count


def export(records: Iterable[dict], output: str | Path, fmt: str = "jsonl") -> int:
    """Write ``records`` to ``output`` in format ``fmt``; return how many were written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    if fmt == "parquet":
        with partial_file(output, "wb") as handle:
            return write_parquet(records, handle)
    with partial_file(output, "w", encoding="utf-8", newline="") as handle:
        return (write_jsonl if fmt == "jsonl" else write_csv)(records, handle)
