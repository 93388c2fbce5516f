"""Exports of the article store for researchers: JSON Lines, CSV and Parquet.

One Article per line (JSONL) or row (CSV, Parquet), UTF-8 and never ASCII-escaped, oldest
publication first. List fields are JSON inside a CSV cell; Parquet has typed columns (lists of
strings, images as a list of structs, the WARC pointer as a struct) with the schema
`parquet_schema()`. JSON Lines and CSV keep dates as the store's ISO 8601 text (a date alone
stays a date, an offset stays the page's); Parquet gives ``published`` and ``modified`` as UTC
instants (``timestamp[us, UTC]``, null when the page gave no time or no offset: an instant is
never guessed) beside ``published_local``/``modified_local``, the same ISO text.

`export_dataset` selects what to export from the store (site, dates, section, a full-text query
through ``storage/search.py``; the latest versions or, with ``versions``, every stored version
with its own fetch time and WARC pointer), keeps only the chosen ``fields``, streams it in
batches (memory does not grow with the store), and writes beside the file its dataset card,
JSON schema and ``SHA256SUMS`` (``storage/dataset_card.py``).

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

from storage import search as fulltext
from storage.articles import ARTICLE_COLUMNS, ARTICLE_FIELDS, ArticleStore, _record
from storage.backends import stream
from storage.partial import partial_file

FORMATS = ("jsonl", "csv", "parquet")
# Rows handed to the Parquet writer at a time: memory stays flat however large the store.
_PARQUET_BATCH_ROWS = 1000
# First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


# Where the extractor found each value (docs/extraction.md); typed in Parquet.
PROVENANCE_FIELDS = (
    "published_source", "modified_source", "dates_disagree", "published_zone_source",
    "modified_zone_source", "canonical_rejected", "canonical_claimed", "title_source",
    "lead_source", "body_source", "fallback",
)
# Every field an export can hold, in order; Parquet adds the ``*_local`` text of the dates.
EXPORT_FIELDS = (*ARTICLE_FIELDS, "first_fetched", *PROVENANCE_FIELDS)
DATE_FIELDS = ("published", "modified")
PARQUET_FIELDS = (*EXPORT_FIELDS, *(f"{name}_local" for name in DATE_FIELDS))
# The fields of a CSV export unless chosen: the Article record and when it was first fetched.
CSV_FIELDS = (*ARTICLE_FIELDS, "first_fetched")


@cache
def parquet_schema():
    """The Parquet export's columns (pyarrow is imported when a Parquet export is asked for)."""
    import pyarrow as pa

    text, texts = pa.string(), pa.list_(pa.string())
    instant = pa.timestamp("us", tz="UTC")
    columns = {name: text for name in ARTICLE_FIELDS}
    columns.update(
        published=instant, modified=instant,
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
    provenance = {name: text for name in PROVENANCE_FIELDS}
    provenance.update(dates_disagree=pa.bool_(), fallback=texts)
    local = {f"{name}_local": text for name in DATE_FIELDS}
    return pa.schema([*columns.items(), ("first_fetched", text), *provenance.items(),
                      *local.items()])


def instant(value: str | None) -> datetime | None:
    """An ISO 8601 date-time with an offset as a UTC instant; None for anything else.

    A date alone or a local time without an offset is no instant: it stays text only.
    """
    if not value or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return None if moment.tzinfo is None else moment.astimezone(timezone.utc)


def parquet_row(record: dict) -> dict:
    """A record as a Parquet row: dates as instants beside their original text."""
    row = dict(record)
    for name in DATE_FIELDS:
        if name in row:
            row[f"{name}_local"] = row[name]
            row[name] = instant(row[name])
    return row


def parquet_columns(fields: Iterable[str] | None) -> list[str]:
    """The Parquet columns of ``fields``: a date brings its ``*_local`` text along."""
    if fields is None:
        return list(PARQUET_FIELDS)
    columns = []
    for name in fields:
        columns.append(name)
        if name in DATE_FIELDS and f"{name}_local" not in fields:
            columns.append(f"{name}_local")
    return columns


def write_jsonl(records: Iterable[dict], handle, fields: Iterable[str] | None = None) -> int:
    """Write records as JSON Lines (only ``fields`` when given); return how many."""
    count = 0
    fields = None if fields is None else tuple(fields)
    for record in records:
        if fields is not None:
            record = {name: record.get(name) for name in fields}
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


def write_csv(records: Iterable[dict], handle, fields: Iterable[str] | None = None) -> int:
    """Write ``fields`` (default `CSV_FIELDS`) as CSV with a header row, every cell quoted;
    return the rows."""
    writer = csv.DictWriter(handle, fieldnames=list(fields or CSV_FIELDS), extrasaction="ignore",
                            quoting=csv.QUOTE_ALL)
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow({key: csv_cell(value) for key, value in record.items()})
        count += 1
    return count


def write_parquet(records: Iterable[dict], path, fields: Iterable[str] | None = None) -> int:
    """Write records as Parquet (zstd, `parquet_schema()`, only the columns of ``fields`` when
    given) to a path or binary file; return rows.

    Keys outside the schema are left out (JSON Lines keeps every key).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    full = parquet_schema()
    schema = pa.schema([full.field(name) for name in parquet_columns(fields)])
    count, batch = 0, []
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for record in records:
            batch.append(parquet_row(record))
            count += 1
            if len(batch) == _PARQUET_BATCH_ROWS:
                writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))
                batch = []
        if batch or count == 0:
            writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))
    return count


def export(
    records: Iterable[dict], output: str | Path, fmt: str = "jsonl",
    fields: Iterable[str] | None = None,
) -> int:
    """Write ``records`` (only ``fields`` when given) to ``output`` in format ``fmt``; return
    how many were written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    if fmt == "parquet":
        with partial_file(output, "wb") as handle:
            return write_parquet(records, handle, fields)
    with partial_file(output, "w", encoding="utf-8", newline="") as handle:
        return (write_jsonl if fmt == "jsonl" else write_csv)(records, handle, fields)


@dataclass(frozen=True)
class Selection:
    """Which stored articles an export holds; dates are inclusive ISO days of ``published``."""

    site: str | None = None
    since: str | None = None
    until: str | None = None
    section: str | None = None
    query: str | None = None
    versions: bool = False

    def describe(self) -> str:
        """The selection in words, for the dataset card."""
        parts = [f"{name} {value!r}" for name, value in (
            ("site", self.site), ("published since", self.since),
            ("published until", self.until), ("section", self.section),
            ("full-text query", self.query)) if value]
        kind = "every stored version of the articles" if self.versions else "the articles"
        return f"{kind} with {', '.join(parts)}" if parts else f"all {kind} in the store"


def check_fields(fields: Iterable[str] | None, fmt: str) -> tuple[str, ...] | None:
    """``fields`` checked against what format ``fmt`` can hold; unknown names raise ValueError."""
    if fields is None:
        return None
    fields = tuple(dict.fromkeys(name.strip() for name in fields if name.strip()))
    known = PARQUET_FIELDS if fmt == "parquet" else EXPORT_FIELDS
    unknown = [name for name in fields if name not in known]
    if unknown or not fields:
        raise ValueError(f"unknown field {', '.join(unknown) or '(none given)'} (choose from "
                         f"{', '.join(known)})")
    return fields


def select(store: ArticleStore, selection: Selection) -> Iterator[dict]:
    """The records of ``selection``, oldest publication first, read through one cursor.

    Each record has every field of `EXPORT_FIELDS`, ``first_fetched`` (when the article was
    first stored) included; with ``versions``, one record per stored version, each with the
    fetch time and WARC pointer of that version. A query FTS5 cannot read raises
    `storage.search.SearchSyntaxError` before anything is read.
    """
    db = store._db
    where, params = fulltext.article_filters(selection.site, selection.since, selection.until)
    if selection.section:
        where += " AND a.section = ?"
        params.append(selection.section)
    if selection.query:
        fulltext.check_query(db, selection.query)
        store.index_pending()
        condition, parameter = fulltext.match_condition(db, selection.query)
        where += f" AND {condition}"
        params.append(parameter)
    if not selection.versions:
        columns = ", ".join(f"a.{name}" for name in ARTICLE_COLUMNS.split(", "))
        rows = stream(db, f"SELECT {columns} FROM articles AS a WHERE TRUE{where} "
                      "ORDER BY a.published, a.canonical_url", params)
        for row in rows:
            yield _uniform({**_record(row), "first_fetched": row["first_fetched"]})
        return
    rows = stream(
        db, "SELECT v.record, v.version, v.fetched, a.first_fetched FROM articles AS a "
        f"JOIN article_versions AS v ON v.canonical_url = a.canonical_url WHERE TRUE{where} "
        "ORDER BY a.published, a.canonical_url, v.version", params)
    for row in rows:
        record = json.loads(row["record"])
        # The stored record holds what came with the item; the article's own fields lead.
        record.update(version=row["version"], fetched=row["fetched"],
                      first_fetched=row["first_fetched"])
        yield _uniform(record)


def _uniform(record: dict) -> dict:
    """Every export field in order (null when the record lacks it), then any other key:
    each JSON Lines record has the same keys, so no tool infers columns from the first one."""
    uniform = {name: record.pop(name, None) for name in EXPORT_FIELDS}
    uniform.update(record)
    return uniform


def export_dataset(
    store: ArticleStore, output: str | Path, fmt: str = "jsonl",
    selection: Selection = Selection(), fields: Iterable[str] | None = None,
    now: datetime | None = None,
) -> int:
    """Export ``selection`` to ``output`` with its dataset card, JSON schema and checksums.

    Returns how many records were written. The card is ``README.md`` beside the output
    (one folder per dataset: a README.md we did not write is not replaced).
    """
    from storage import dataset_card

    output = Path(output)
    fields = check_fields(fields, fmt)
    dataset_card.check_card_free(output)
    stats = dataset_card.DatasetStats()
    count = export(stats.watch(select(store, selection)), output, fmt, fields)
    dataset_card.write_companions(output, fmt, fields, selection, stats, store.path, now)
    return count
