"""Exports of the article store for researchers: JSON Lines and CSV.

One Article per line (JSONL) or row (CSV), UTF-8 and never ASCII-escaped, oldest publication
first. List fields are JSON inside a CSV cell. The file is written beside its final name and renamed
when complete, so a reader never sees half an export.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path

from storage.articles import ARTICLE_FIELDS

FORMATS = ("jsonl", "csv")


def write_jsonl(records: Iterable[dict], handle) -> int:
    """Write records as JSON Lines; return how many."""
    count = 0
    for record in records:
        handle.write(json.dumps(record, ensure_ascii=False))
        handle.write("\n")
        count += 1
    return count


def write_csv(records: Iterable[dict], handle) -> int:
    """Write the Article fields as CSV with a header row; return how many rows."""
    writer = csv.DictWriter(handle, fieldnames=ARTICLE_FIELDS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow({
            key: json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value
            for key, value in record.items()
        })
        count += 1
    return count


def export(records: Iterable[dict], output: str | Path, fmt: str = "jsonl") -> int:
    """Write ``records`` to ``output`` in format ``fmt``; return how many were written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with open(partial, "w", encoding="utf-8", newline="") as handle:
        count = (write_jsonl if fmt == "jsonl" else write_csv)(records, handle)
    os.replace(partial, output)
    return count
