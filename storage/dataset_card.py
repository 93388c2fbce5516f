"""What an export writes beside its file: a dataset card, a JSON schema and ``SHA256SUMS``.

* ``README.md``: the dataset card (with the YAML header Hugging Face ``datasets`` reads, so
  ``load_dataset("<folder>")`` loads the file): what was selected, sources, publication and crawl
  dates, counts per site and year, every field with its type, meaning and how often it is filled,
  how to load the file in pandas, pyarrow, DuckDB and ``datasets`` (recipes the tests run),
  known limits, how to cite, and a rights statement for the archive's keeper to fill in;
* ``<name>.schema.json``: a JSON Schema (draft 2020-12) of one record, with field descriptions;
* ``SHA256SUMS``: ``sha256sum -c`` checks the file, its schema and its card (lines of other files
  in the folder are kept).

Everything is computed while the export streams (`DatasetStats`): counts, never rows, are kept.
A ``README.md`` in the folder that an export did not write is never replaced: one folder per
dataset. This module reads no settings.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

from storage.export import (
    CSV_FIELDS,
    DATE_FIELDS,
    EXPORT_FIELDS,
    Selection,
    instant,
    parquet_columns,
)
from storage.partial import partial_file

CARD_NAME = "README.md"
SUMS_NAME = "SHA256SUMS"
# The card's first line after its YAML header: how an export knows a README.md is its own.
CARD_MARK = "<!-- dataset card written by `scrapy export`; rewritten by the next export -->"

_TEXT = {"type": ["string", "null"]}
_TEXTS = {"type": ["array", "null"], "items": {"type": "string"}}
_WARC_POINTER = {
    "filename": "WARC file under the archive's warc/ folder",
    "record_id": "WARC-Record-ID of the record",
    "offset": "byte offset of the record in the file",
    "length": "length of the record in bytes",
    "payload_digest": "WARC-Payload-Digest",
    "target_uri": "WARC-Target-URI",
    "record_type": "response, or revisit when the payload was archived before",
    "refers_to": "a revisit's WARC-Refers-To",
    "date": "WARC-Date",
}
_INTEGERS = ("offset", "length")
# name: (JSON Schema of the value in JSON Lines, meaning). docs/researcher.md says more.
FIELDS: dict[str, tuple[dict, str]] = {
    "url": ({"type": "string"}, "the URL fetched"),
    "canonical_url": ({"type": "string"}, "the page's canonical URL when trusted, else url; "
                      "the store's key"),
    "site": ({"type": "string"}, "site id (one per portal)"),
    "title": (_TEXT, "headline"),
    "lead": (_TEXT, "the sapo (standfirst), when the page marks one"),
    "body": (_TEXT, "clean text, paragraphs separated by a blank line"),
    "published": (_TEXT, "publication date as the page states it: ISO 8601 with its UTC offset "
                  "(2020-02-12T19:29:00+07:00), a date alone when the page gives no time, a "
                  "local time without offset when nothing tells the zone; never guessed"),
    "modified": (_TEXT, "last modification, same format, when the page states it"),
    "authors": (_TEXTS, "people named in the byline, in order"),
    "credit": (_TEXT, "what the byline says they did, or the source (Tin, ảnh; Theo TTXVN)"),
    "section": (_TEXT, "the portal's section"),
    "tags": (_TEXTS, "the page's keyword links"),
    "images": ({"type": ["array", "null"], "items": {"type": "object", "properties": {
        name: _TEXT for name in ("src", "caption", "credit")}}},
        "images: absolute src, caption, photographer"),
    "language": (_TEXT, "language of the page (vi)"),
    "fetched": (_TEXT, "when the response parsed was received (UTC, ISO 8601)"),
    "warc": ({"type": ["object", "null"], "properties": {
        **{name: ({"type": ["integer", "null"]} if name in _INTEGERS else _TEXT)
           for name in _WARC_POINTER},
        "original": {"type": ["object", "null"]}}},
        "where the archived response is: " + "; ".join(
            f"{name}: {meaning}" for name, meaning in _WARC_POINTER.items())
        + "; original: for a revisit, the record holding the bytes"),
    "content_hash": ({"type": "string"}, "sha256 of title, lead and body: equal hashes, "
                     "same text"),
    "version": ({"type": "integer"}, "1 for the first capture, +1 each time the text changed"),
    "first_fetched": (_TEXT, "when the article was first stored (UTC, ISO 8601)"),
    "published_source": (_TEXT, "where published came from: selector, meta, json-ld, visible, "
                         "url, image-url, htmldate"),
    "modified_source": (_TEXT, "where modified came from"),
    "dates_disagree": ({"type": ["boolean", "null"]}, "two date sources more than a day apart"),
    "published_zone_source": (_TEXT, "where the offset of published came from: page, site, "
                              "vietnam, none"),
    "modified_zone_source": (_TEXT, "where the offset of modified came from"),
    "canonical_rejected": (_TEXT, "why the page's canonical URL was not used (offsite, "
                           "collision)"),
    "canonical_claimed": (_TEXT, "the canonical URL the page named, when not used"),
    "title_source": (_TEXT, "where the title came from (selector, meta, json-ld, generic)"),
    "lead_source": (_TEXT, "where the lead came from"),
    "body_source": (_TEXT, "where the body came from"),
    "fallback": (_TEXTS, "fields the site profile missed and the generic extractor filled"),
}
_PARQUET_TYPES = {
    "published": "timestamp[us, UTC]: the instant of published_local; null when that has no "
                 "time or no offset",
    "modified": "timestamp[us, UTC]: the instant of modified_local; null likewise",
    "published_local": "string: published as the page states it (see published in JSON Lines)",
    "modified_local": "string: modified as the page states it",
}
assert set(FIELDS) == set(EXPORT_FIELDS)

# How to load each format so that every value comes back as exported; ``{file}`` is the
# export's path, ``{folder}`` its folder. tests/test_storage_export_roundtrip.py runs each one.
LOADING: dict[str, dict[str, str]] = {
    "parquet": {
        "pandas": 'import pandas as pd\ndf = pd.read_parquet("{file}")',
        "pyarrow": 'import pyarrow.parquet as pq\ntable = pq.read_table("{file}")',
        "duckdb": 'import duckdb\nrel = duckdb.sql("SELECT * FROM \'{file}\'")',
        "datasets": 'from datasets import load_dataset\n'
                    'ds = load_dataset("parquet", data_files="{file}", split="train")\n'
                    '# or, reading this card\'s header: load_dataset("{folder}", split="train")',
    },
    "jsonl": {
        # Left to guess types, pandas, pyarrow, DuckDB and datasets turn ISO text into
        # timestamps and drop the page's offset (08:17+07:00 becomes a naive 01:17). pandas'
        # switch for it (convert_dates) is deprecated in pandas 3 and still needed in pandas 2:
        # records read with json guess nothing in either.
        "pandas": 'import json\nimport pandas as pd\n'
                  'with open("{file}", encoding="utf-8") as f:\n'
                  '    df = pd.DataFrame([json.loads(line) for line in f])',
        "pyarrow": 'import json\nimport pyarrow as pa\n'
                   'with open("{file}", encoding="utf-8") as f:\n'
                   '    table = pa.Table.from_pylist([json.loads(line) for line in f])',
        "duckdb": 'import duckdb\n'
                  '# date formats that match nothing keep the ISO text as text\n'
                  'rel = duckdb.sql("SELECT * FROM read_json(\'{file}\', '
                  'timestampformat=\'%d/%m/%Y\', dateformat=\'%d/%m/%Y\')")',
        "datasets": 'import json\nfrom datasets import Dataset\n'
                    'with open("{file}", encoding="utf-8") as f:\n'
                    '    ds = Dataset.from_list([json.loads(line) for line in f])',
    },
    "csv": {
        "pandas": 'import pandas as pd\n'
                  'df = pd.read_csv("{file}", dtype=str, keep_default_na=False, na_values=[""])',
        "pyarrow": 'import csv\nimport pyarrow as pa\nimport pyarrow.csv as pacsv\n'
                   'with open("{file}", encoding="utf-8", newline="") as f:\n'
                   '    names = next(csv.reader(f))\n'
                   'table = pacsv.read_csv("{file}", '
                   'parse_options=pacsv.ParseOptions(newlines_in_values=True),\n'
                   '    convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, '
                   'pa.string()), strings_can_be_null=True))',
        "duckdb": 'import duckdb\n'
                  'rel = duckdb.sql("SELECT * FROM read_csv(\'{file}\', all_varchar=true)")',
        "datasets": 'import pandas as pd\nfrom datasets import Dataset\n'
                    'ds = Dataset.from_pandas(pd.read_csv("{file}", dtype=str, '
                    'keep_default_na=False, na_values=[""]))',
    },
}


class DatasetStats:
    """Counts gathered from the records while they stream to the export."""

    def __init__(self) -> None:
        self.count = 0
        self.per_site_year: Counter[tuple[str, str]] = Counter()
        self.hosts: Counter[str] = Counter()
        self.filled: Counter[str] = Counter()
        self.first: dict[str, str] = {}
        self.last: dict[str, str] = {}
        self.no_instant = 0

    def watch(self, records: Iterable[dict]) -> Iterator[dict]:
        """Pass ``records`` through, counting them."""
        for record in records:
            self.add(record)
            yield record

    def add(self, record: dict) -> None:
        """Count one record."""
        self.count += 1
        published = record.get("published") or ""
        self.per_site_year[(record.get("site") or "?", published[:4] or "undated")] += 1
        self.hosts[urlsplit(record.get("url") or "").hostname or "?"] += 1
        for name in EXPORT_FIELDS:
            if record.get(name) not in (None, "", []):
                self.filled[name] += 1
        for name in ("published", "fetched", "first_fetched"):
            value = record.get(name)
            if value:
                if name not in self.first or value < self.first[name]:
                    self.first[name] = value
                if name not in self.last or value > self.last[name]:
                    self.last[name] = value
        if published and instant(published) is None:
            self.no_instant += 1
        for name in DATE_FIELDS:
            if instant(record.get(name)) is not None:
                self.filled[f"{name}:instant"] += 1


def check_card_free(output: Path) -> None:
    """Refuse to export into a folder whose README.md an export did not write."""
    card = output.parent / CARD_NAME
    if card.is_file() and CARD_MARK not in card.read_text(encoding="utf-8", errors="replace"):
        raise FileExistsError(
            f"{card} exists and is not a dataset card written by an export: export into a "
            "folder of its own (the card is written beside the file)")


def record_schema(fmt: str, fields: Iterable[str] | None) -> dict:
    """A JSON Schema (draft 2020-12) of one exported record."""
    if fmt == "parquet":
        names = parquet_columns(fields)
    else:
        names = list(fields or (CSV_FIELDS if fmt == "csv" else EXPORT_FIELDS))
    properties = {}
    for name in names:
        base = name.removesuffix("_local")
        schema, meaning = FIELDS[base]
        schema = dict(schema)
        if fmt == "csv" and schema.get("type") not in ("string", ["string", "null"]):
            meaning += " (as JSON text in the CSV cell)"
            schema = _TEXT
        if fmt == "parquet" and name in _PARQUET_TYPES:
            meaning = _PARQUET_TYPES[name] + (" — " + meaning if name.endswith("_local") else "")
            if name in DATE_FIELDS:
                schema = {**_TEXT, "format": "date-time"}
        properties[name] = {**schema, "description": meaning}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Article",
        "description": f"One record of a {fmt} export of provincial-news-archiver's article "
                       "store. Fields a page lacks are null (or []), never guessed.",
        "type": "object",
        "properties": properties,
        "required": [name for name in ("url", "canonical_url", "site", "content_hash")
                     if name in properties],
    }


def write_companions(
    output: Path, fmt: str, fields: Iterable[str] | None, selection: Selection,
    stats: DatasetStats, store_path: Path, now: datetime | None = None,
) -> None:
    """Write the schema, the card and SHA256SUMS beside the finished ``output``."""
    now = now or datetime.now(timezone.utc)
    schema_path = output.with_name(f"{output.name.split('.')[0]}.schema.json")
    with partial_file(schema_path, "w", encoding="utf-8") as handle:
        json.dump(record_schema(fmt, fields), handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    digest = sha256_of(output)
    card = output.parent / CARD_NAME
    with partial_file(card, "w", encoding="utf-8") as handle:
        handle.write(card_text(output, fmt, fields, selection, stats, store_path, now, digest,
                               schema_path.name))
    sums = output.parent / SUMS_NAME
    lines = {}
    if sums.is_file():
        for line in sums.read_text(encoding="utf-8").splitlines():
            hexdigest, _, name = line.partition("  ")
            if name and (output.parent / name).is_file():
                lines[name] = hexdigest
    lines.update({output.name: digest, schema_path.name: sha256_of(schema_path),
                  CARD_NAME: sha256_of(card)})
    with partial_file(sums, "w", encoding="utf-8") as handle:
        handle.writelines(f"{lines[name]}  {name}\n" for name in sorted(lines))


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _version() -> str:
    try:
        return metadata.version("provincial-news-archiver")
    except metadata.PackageNotFoundError:
        return "unknown"


def card_text(
    output: Path, fmt: str, fields: Iterable[str] | None, selection: Selection,
    stats: DatasetStats, store_path: Path, now: datetime, digest: str, schema_name: str,
) -> str:
    """The dataset card (Markdown with a YAML header)."""
    sites = sorted({site for site, _ in stats.per_site_year})
    years = sorted({year for _, year in stats.per_site_year})
    day = now.date().isoformat()
    first = stats.first.get("published", "?")[:10]
    last = stats.last.get("published", "?")[:10]
    title = f"Articles of {', '.join(sites) or 'no site'}, published {first} to {last}"
    header = "\n".join([
        "---",
        f"pretty_name: {json.dumps(title, ensure_ascii=False)}",
        "language:\n- vi",
        "license: other  # fill in: see Rights below",
        "configs:\n- config_name: default",
        f"  data_files:\n  - split: train\n    path: {output.name}",
        "---",
    ])
    if fmt == "parquet":
        names = parquet_columns(fields)
    else:
        names = list(fields or (CSV_FIELDS if fmt == "csv" else EXPORT_FIELDS))
    # Parquet's date columns hold instants only: their fill is of the instants.
    filled = {name: stats.filled[name.removesuffix("_local")] for name in names}
    if fmt == "parquet":
        filled.update({name: stats.filled[f"{name}:instant"] for name in DATE_FIELDS})
    rows = [f"| `{name}` | {_type_of(name, fmt)} | {_meaning(name, fmt)} | "
            f"{_share(filled[name], stats.count)} |" for name in names]
    table = ["| site | " + " | ".join(years) + " | total |",
             "| --- |" + " ---: |" * (len(years) + 1)]
    for site in sites:
        counts = [stats.per_site_year[(site, year)] for year in years]
        table.append(f"| {site} | " + " | ".join(str(count) for count in counts)
                     + f" | {sum(counts)} |")
    loading = "\n\n".join(
        f"**{tool}**\n\n```python\n"
        f"{code.format(file=output.name, folder='.')}\n```"
        for tool, code in LOADING[fmt].items())
    hosts = ", ".join(f"{host} ({count})" for host, count in stats.hosts.most_common())
    citation = (f"[Archive keeper] ({now.year}). *{title}* [Data set, {stats.count} records, "
                f"{fmt}]. Exported {day} from an archive made with provincial-news-archiver "
                f"{_version()}. SHA-256 {digest}.")
    return f"""{header}
{CARD_MARK}

# {title}

{stats.count} records: {selection.describe()}, exported {day} from `{store_path.name}` as
`{output.name}` ({fmt}). Each record is one news article as the portal published it, parsed from
a web page archived in WARC files; each links to its archived capture (`warc`).

## Sources

Sites: {', '.join(sites) or 'none'}. Hosts the pages came from: {hosts or 'none'}.

Published from {stats.first.get('published', '—')} to {stats.last.get('published', '—')}.
Crawled (first stored) from {stats.first.get('first_fetched', '—')}; last fetched
{stats.last.get('fetched', '—')}.

## Records per site and year of publication

{chr(10).join(table)}

## Files

- `{output.name}`: the records ({fmt}).
- `{schema_name}`: JSON Schema of one record, with these field descriptions.
- `{SUMS_NAME}`: SHA-256 of the files; check with `sha256sum -c {SUMS_NAME}`.

## Fields

| field | type | meaning | filled |
| --- | --- | --- | ---: |
{chr(10).join(rows)}

## Loading

These keep every value as exported (tested with pandas, pyarrow, DuckDB and Hugging Face
`datasets`). Read JSON Lines or CSV without them and most tools turn the dates into timestamps and
drop the page's UTC offset (`08:17+07:00` comes back as a naive `01:17`); `datasets`'
`load_dataset("json")` does so with no switch to prevent it, so load the Parquet export there.

{loading}

## Known limits

- A date is what the page states: {stats.no_instant} of {stats.count} records have a
  `published` that is a date alone or a local time without offset (no instant; Parquet's
  `published` is null there, `published_local` keeps the text). The offset is never guessed.
- Text is what the extractor found on the page; `fallback` names fields the site profile missed
  (filled by the generic extractor), `dates_disagree` flags pages whose date sources disagree.
- Coverage is what the crawls reached: a month with few records may be a gap in the crawl, not
  in the paper. Sections and tags are the portal's own.
- An article edited after its first capture has several versions; this export holds
  {'every version' if selection.versions else 'the latest one'}.

## How to cite

{citation}

## Rights

[To be filled in by the archive's keeper: who holds the copyright of the articles, under which
terms this dataset may be used and shared (e.g. research use only, no redistribution of full
texts), and whom to contact.]
"""


def _type_of(name: str, fmt: str) -> str:
    if fmt == "parquet" and name in _PARQUET_TYPES:
        return _PARQUET_TYPES[name].split(":")[0]
    schema = FIELDS[name.removesuffix("_local")][0]
    kind = schema.get("type")
    kind = "/".join(kind) if isinstance(kind, list) else kind
    return "text" if fmt == "csv" else kind


def _meaning(name: str, fmt: str) -> str:
    if fmt == "parquet" and name in _PARQUET_TYPES:
        return _PARQUET_TYPES[name].split(": ", 1)[1]
    return FIELDS[name][1]


def _share(filled: int, count: int) -> str:
    return f"{filled} ({100 * filled / count:.0f}%)" if count else "0"
