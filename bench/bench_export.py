"""Export and full-text index at scale: a synthetic store of 100,000 articles.

Run from the project root: ``python bench/bench_export.py [--articles 100000]``.

The store is built by bulk insert from the replica's generated articles (500 distinct texts,
each stored many times under its own URL, with publication dates spread over ten years and every
tenth article edited once, so ``--versions`` has work to do). It is first built as a store of an
earlier version would be, without the full-text index, and then:

1. **Index migration**: the time ``ArticleStore`` takes to open it the first time (building
   ``articles_fts`` over title, lead and body), and the time of a search on the result;
2. **Exports**: ``scrapy export`` of every article in each format, and ``--versions`` and
   ``--query`` exports in JSON Lines, each in its own process: wall time, articles per second,
   the output's size, and the peak resident memory of the process (``ru_maxrss`` from
   ``wait4``). The issue's bound is 300 MB.

Not a test: the figures go to docs/researcher.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.parsing.article import content_hash  # noqa: E402
from storage.articles import ARTICLE_FIELDS, ArticleStore  # noqa: E402
from storage.search import FTS_TABLE  # noqa: E402
from tests.replica.content import build_site  # noqa: E402

MEMORY_BOUND_MB = 300
ZONE = timezone(timedelta(hours=7))


def templates(count: int) -> list[dict]:
    """Distinct article texts from the replica's generator, as a crawl would store them."""
    site = build_site(articles=count)
    return [{
        "site": "baonamdinh", "title": article.title, "lead": article.lead,
        "body": "\n\n".join(article.paragraphs), "authors": article.authors,
        "credit": article.credit, "section": article.section.name, "tags": article.tags,
        "images": [{"src": image.src, "caption": image.caption_text, "credit": image.credit}
                   for image in article.images],
        "language": "vi",
    } for article in site.articles]


def build_store(path: Path, articles: int, texts: list[dict]) -> None:
    """A store of ``articles`` rows without the full-text index (as an earlier version wrote)."""
    with ArticleStore(path):
        pass
    import sqlite3

    db = sqlite3.connect(path)
    db.execute(f"DROP TABLE {FTS_TABLE}")
    for name in ("insert", "replace", "delete", "update"):
        db.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{name}")
    rng = random.Random(17)
    start = datetime(2015, 1, 1, tzinfo=ZONE)
    columns = (*ARTICLE_FIELDS, "provenance", "first_fetched")
    insert_article = (f"INSERT INTO articles ({', '.join(columns)}) "
                      f"VALUES ({', '.join('?' for _ in columns)})")
    rows, versions = [], []
    for number in range(articles):
        text = texts[number % len(texts)]
        url = f"https://baonamdinh.vn/channel/5085/{number}/bai-{number}.htm"
        published = start + timedelta(minutes=rng.randrange(10 * 365 * 24 * 60))
        fetched = "2026-11-29T10:00:00+00:00"
        record = {**text, "url": url, "canonical_url": url,
                  "published": published.isoformat(), "modified": None, "fetched": fetched,
                  "warc": {"filename": f"crawl-{number // 5000:05d}.warc.gz",
                           "record_id": f"<urn:uuid:{number:032x}>", "offset": number * 9000,
                           "length": 9000, "payload_digest": "sha1:X", "target_uri": url,
                           "record_type": "response"},
                  "published_source": "selector", "published_zone_source": "site",
                  "title_source": "selector", "body_source": "selector", "version": 1}
        record["content_hash"] = content_hash(record)
        edits = [record]
        if number % 10 == 0:
            edited = {**record, "body": record["body"] + "\n\nCập nhật.", "version": 2,
                      "fetched": "2026-11-30T10:00:00+00:00"}
            edited["content_hash"] = content_hash(edited)
            edits.append(edited)
        latest = edits[-1]
        values = [json.dumps(latest[name], ensure_ascii=False)
                  if name in ("authors", "tags", "images", "warc") else latest.get(name)
                  for name in ARTICLE_FIELDS]
        provenance = {key: latest[key] for key in latest if key not in ARTICLE_FIELDS}
        rows.append((*values, json.dumps(provenance), fetched))
        versions += [(url, edit["version"], edit["content_hash"], edit["fetched"],
                      json.dumps(edit, ensure_ascii=False)) for edit in edits]
        if len(rows) == 5000:
            _flush(db, insert_article, rows, versions)
    _flush(db, insert_article, rows, versions)
    db.execute("VACUUM")
    db.close()


def _flush(db, insert_article: str, rows: list, versions: list) -> None:
    with db:
        db.executemany(insert_article, rows)
        db.executemany("INSERT INTO article_versions VALUES (?, ?, ?, ?, ?)", versions)
    rows.clear()
    versions.clear()


def run_measured(command: list[str]) -> tuple[float, float, str]:
    """Run ``command``; its wall seconds, peak resident MB and standard output."""
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    stdout = process.stdout.read()
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {stderr[-2000:]}")
    return time.perf_counter() - began, usage.ru_maxrss / 1024, stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--texts", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        archive = Path(tmp) / "archive"
        archive.mkdir()
        store_path = archive / "articles.sqlite3"
        began = time.perf_counter()
        build_store(store_path, args.articles, templates(args.texts))
        print(f"Synthetic store: {args.articles} articles "
              f"({args.articles // 10} edited once), "
              f"{store_path.stat().st_size / 1e6:.0f} MB, built in "
              f"{time.perf_counter() - began:.1f} s")

        began = time.perf_counter()
        with ArticleStore(store_path) as store:
            built = time.perf_counter() - began
            began = time.perf_counter()
            hits = store.search("nong thon moi", limit=20)
            searched = time.perf_counter() - began
        print(f"Full-text index built on first opening: {built:.1f} s "
              f"({args.articles / built:,.0f} articles/s); store now "
              f"{store_path.stat().st_size / 1e6:.0f} MB")
        print(f"Search 'nong thon moi' (20 best of all matches): {searched * 1000:.0f} ms, "
              f"{len(hits)} hits")

        print(f"\n| export | records | seconds | records/s | output MB | peak RSS MB "
              f"(bound {MEMORY_BOUND_MB}) |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        runs = [(fmt, ["--format", fmt]) for fmt in ("jsonl", "csv", "parquet")]
        runs += [("jsonl --versions", ["--versions"]),
                 ("parquet --versions", ["--format", "parquet", "--versions"]),
                 ('jsonl --query "nong thon"', ["--query", "nong thon"])]
        for label, options in runs:
            output = Path(tmp) / "exports" / label.replace(" ", "_").replace('"', "") / \
                f"articles.{'parquet' if 'parquet' in label else 'jsonl'}" \
                if "csv" not in label else Path(tmp) / "exports" / "csv" / "articles.csv"
            command = [sys.executable, "-m", "scrapy", "export", "-s", f"ARCHIVE_DIR={archive}",
                       "--output", str(output), *options]
            seconds, rss, stdout = run_measured(command)
            count = int(stdout.split()[1])
            print(f"| {label} | {count} | {seconds:.1f} | {count / seconds:,.0f} | "
                  f"{output.stat().st_size / 1e6:.1f} | {rss:.0f} |", flush=True)


if __name__ == "__main__":
    main()
