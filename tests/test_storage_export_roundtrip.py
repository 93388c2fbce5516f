"""Exports a researcher can trust: each format, loaded with pandas, pyarrow, DuckDB and Hugging
Face ``datasets`` as its dataset card says, gives back every stored article with identical fields
and ``published`` as the same instant with the page's offset kept; the card, schema and
checksums beside it are right."""

from __future__ import annotations

import json
import math
import os
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from storage.articles import ArticleStore
from storage.dataset_card import LOADING
from storage.export import (
    CSV_FIELDS,
    FORMULA_TRIGGERS,
    PARQUET_FIELDS,
    Selection,
    check_fields,
    export_dataset,
    instant,
    select,
)
from tests.test_storage_articles import make_record

FORMATS = ("jsonl", "csv", "parquet")
TOOLS = ("pandas", "pyarrow", "duckdb", "datasets")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module", autouse=True)
def offline_datasets(tmp_path_factory):
    """Hugging Face `datasets` with its cache in a temporary folder and no network."""
    saved = dict(os.environ)
    os.environ["HF_HOME"] = str(tmp_path_factory.mktemp("hf"))
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    yield
    os.environ.clear()
    os.environ.update(saved)


def varied_records() -> list[dict]:
    """Articles with every kind of date the store holds, and text a CSV must neutralise."""
    return [
        make_record("http://x/offset/", published="2020-02-12T08:17:00+07:00",
                    body="Dòng một.\n\nDòng hai, có \"ngoặc kép\", dấu phẩy; và chấm phẩy."),
        make_record("http://x/date-only/", published="2023-06-05", lead=None, authors=[],
                    images=[], tags=[]),
        make_record("http://x/no-offset/", published="2019-06-20T14:39:54",
                    published_zone_source="none"),
        make_record("http://x/utc/", published="2021-01-01T00:30:00+00:00",
                    title="=HYPERLINK(\"http://evil.example\")", credit="-CTV"),
        make_record("http://y/other/", site="other", published=None, section="Thể thao",
                    dates_disagree=True, fallback=["body"]),
    ]


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> tuple[dict[str, Path], list[dict]]:
    """One export per format of the varied store, and the records the store holds."""
    root = tmp_path_factory.mktemp("exports")
    with ArticleStore(root / "articles.sqlite3") as store:
        for record in varied_records():
            store.upsert(record)
        # An edited article: its latest version is exported.
        store.upsert(make_record("http://x/offset/", published="2020-02-12T08:17:00+07:00",
                                 body="Bản đã sửa.", fetched="2026-11-30T10:00:00+00:00"))
        expected = list(select(store, Selection()))
        paths = {}
        for fmt in FORMATS:
            paths[fmt] = root / fmt / f"articles.{fmt}"
            assert export_dataset(store, paths[fmt], fmt, now=NOW) == len(expected) == 5
    return paths, expected


def load(fmt: str, tool: str, path: Path) -> list[dict]:
    """Run the card's recipe for ``tool`` and give the rows as plain dicts."""
    namespace: dict = {}
    exec(LOADING[fmt][tool].format(file=path, folder=path.parent), namespace)
    if tool == "pandas":
        return namespace["df"].to_dict("records")
    if tool == "pyarrow":
        return namespace["table"].to_pylist()
    if tool == "duckdb":
        relation = namespace["rel"]
        return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]
    return namespace["ds"].to_list()


def plain(value):
    """A loaded value as plain Python: no numpy, NaN/NaT as None, no None-valued struct keys."""
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy arrays and scalars
        value = value.tolist()
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
        value = None if value != value else value.to_pydatetime()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items() if plain(item) is not None}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def from_csv(name: str, value):
    """A CSV cell back as its value: JSON for lists and objects, numbers, formula quote off."""
    if value is None:
        return None
    if isinstance(value, str) and value[:1] == "'" and value[1:2] and \
            value[1:2] in "".join(FORMULA_TRIGGERS):
        value = value[1:]
    if name in ("authors", "tags", "images", "warc"):
        return plain(json.loads(value))
    if name == "version":
        return int(value)
    return value


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_tool_reads_back_every_article_with_identical_fields(exports, fmt, tool):
    paths, expected = exports
    rows = [{name: plain(value) for name, value in row.items()}
            for row in load(fmt, tool, paths[fmt])]
    columns = {"parquet": PARQUET_FIELDS, "csv": CSV_FIELDS}.get(fmt)
    if columns:
        assert all(list(row) == list(columns) for row in rows)
    by_url = {row["canonical_url"]: row for row in rows}
    assert len(by_url) == len(rows) == len(expected)
    for record in expected:
        row = by_url[record["canonical_url"]]
        for name, value in record.items():
            if name not in row:
                assert fmt != "jsonl", f"{name} missing from the JSON Lines export"
                continue
            got = from_csv(name, row[name]) if fmt == "csv" else row[name]
            if fmt == "parquet" and name in ("published", "modified"):
                # The instant, and beside it the page's own text with its offset.
                assert got == instant(value), (name, record["url"])
                assert got is None or got.utcoffset() is not None
                assert row[f"{name}_local"] == value
                continue
            if fmt == "csv" and value in ([], ""):
                value = None if value == "" else value
            assert got == plain(value), (name, record["url"], tool)
        if record["published"] and "+" in record["published"] and fmt != "parquet":
            # Text exports: the ISO string itself, so the instant and the offset.
            assert datetime.fromisoformat(row["published"]).utcoffset() is not None


def test_datasets_loads_the_folder_through_the_dataset_card(exports):
    from datasets import load_dataset

    paths, expected = exports
    dataset = load_dataset(str(paths["parquet"].parent), split="train")
    assert dataset.num_rows == len(expected)
    first = {row["canonical_url"]: row for row in dataset.to_list()}["http://x/offset/"]
    assert first["published"] == datetime(2020, 2, 12, 1, 17, tzinfo=timezone.utc)
    assert first["published_local"] == "2020-02-12T08:17:00+07:00"


def test_a_date_column_keeps_its_type_when_every_value_is_null(exports):
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths, _ = exports
    schema = pq.read_schema(paths["parquet"])
    assert schema.field("modified").type == pa.timestamp("us", tz="UTC")
    assert schema.field("modified_local").type == pa.string()
    assert schema.field("published").type == pa.timestamp("us", tz="UTC")


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_card_schema_and_checksums_describe_the_export(exports, fmt):
    import jsonschema

    paths, expected = exports
    folder = paths[fmt].parent
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        ["README.md", "SHA256SUMS", "articles.schema.json", f"articles.{fmt}"])
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert len(check.stdout.splitlines()) == 3
    card = (folder / "README.md").read_text(encoding="utf-8")
    # Records per site and year of publication.
    assert "| site | 2019 | 2020 | 2021 | 2023 | undated | total |" in card
    assert "| baonamdinh | 1 | 1 | 1 | 1 | 0 | 4 |" in card
    assert "| other | 0 | 0 | 0 | 0 | 1 | 1 |" in card
    for heading in ("## Sources", "## Fields", "## Loading", "## Known limits",
                    "## How to cite", "## Rights"):
        assert heading in card
    assert "2 of 5 records have a\n  `published` that is a date alone" in card
    assert "Crawled (first stored) from 2026-11-29T10:00:00+00:00" in card
    schema = json.loads((folder / "articles.schema.json").read_text(encoding="utf-8"))
    assert schema["properties"]["published"]["description"]
    if fmt == "jsonl":
        with open(paths[fmt], encoding="utf-8") as handle:
            for line in handle:
                jsonschema.validate(json.loads(line), schema)
    assert len(expected) == 5


def test_versions_export_has_every_version_with_its_fetch_time_and_capture(tmp_path):
    with ArticleStore(tmp_path / "articles.sqlite3") as store:
        store.upsert(make_record("http://x/a/", fetched="2026-01-01T00:00:00+00:00",
                                 warc={"filename": "1.warc.gz", "offset": 10}))
        store.upsert(make_record("http://x/a/", body="Sửa lần một.",
                                 fetched="2026-02-01T00:00:00+00:00",
                                 warc={"filename": "2.warc.gz", "offset": 20}))
        store.upsert(make_record("http://x/b/", fetched="2026-01-05T00:00:00+00:00"))
        output = tmp_path / "out" / "versions.jsonl"
        assert export_dataset(store, output, "jsonl", Selection(versions=True), now=NOW) == 3
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    a = [row for row in rows if row["canonical_url"] == "http://x/a/"]
    assert [(row["version"], row["fetched"], row["warc"]["filename"], row["body"])
            for row in a] == [
        (1, "2026-01-01T00:00:00+00:00", "1.warc.gz", "Đoạn một.\n\nĐoạn hai."),
        (2, "2026-02-01T00:00:00+00:00", "2.warc.gz", "Sửa lần một."),
    ]
    assert {row["first_fetched"] for row in a} == {"2026-01-01T00:00:00+00:00"}
    assert "every version" in (tmp_path / "out" / "README.md").read_text(encoding="utf-8")


def test_fields_section_and_query_select_what_is_exported(tmp_path):
    with ArticleStore(tmp_path / "articles.sqlite3") as store:
        store.upsert(make_record("http://x/a/", section="Chính trị",
                                 title="Đại hội Đảng bộ huyện Giao Thủy"))
        store.upsert(make_record("http://x/b/", section="Kinh tế", title="Giá lúa tăng"))
        store.upsert(make_record("http://x/c/", section="Chính trị", title="Tiếp xúc cử tri"))
        output = tmp_path / "a" / "a.parquet"
        fields = check_fields(["url", "title", "published"], "parquet")
        assert export_dataset(store, output, "parquet", Selection(section="Chính trị"),
                              fields) == 2
        assert export_dataset(store, tmp_path / "b" / "b.csv", "csv",
                              Selection(query="dai hoi dang bo"), ["url"]) == 1
    import pyarrow.parquet as pq

    table = pq.read_table(output)
    assert table.column_names == ["url", "title", "published", "published_local"]
    assert sorted(table.column("url").to_pylist()) == ["http://x/a/", "http://x/c/"]
    assert (tmp_path / "b" / "b.csv").read_text(encoding="utf-8").splitlines() == [
        '"url"', '"http://x/a/"']
    with pytest.raises(ValueError, match="unknown field nope"):
        check_fields(["url", "nope"], "jsonl")
    with pytest.raises(ValueError, match="unknown field published_local"):
        check_fields(["published_local"], "jsonl")


def test_instant_is_never_guessed():
    assert instant("2020-02-12T08:17:00+07:00") == datetime(2020, 2, 12, 1, 17,
                                                            tzinfo=timezone.utc)
    assert instant("2020-02-12T08:17:00Z").utcoffset().total_seconds() == 0
    assert instant("2019-06-20T14:39:54") is None
    assert instant("2023-06-05") is None
    assert instant(None) is None
    assert instant("not a date") is None
    assert date(2023, 6, 5).isoformat() == "2023-06-05"
