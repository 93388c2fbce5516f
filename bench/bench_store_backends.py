"""The article store on SQLite and on PostgreSQL, side by side in one run.

Run from the project root: ``python bench/bench_store_backends.py [--articles 3000]``.

Starts a private PostgreSQL cluster (``tests/postgres.py``: Debian's binaries, a unix socket in a
temporary folder, durability off as in the tests) and, for each backend, stores ``--articles``
articles of ~2.5 KB one upsert (one transaction) at a time, looks each up as an incremental crawl
does (``known_article``), exports them all (JSON Lines), and runs a search that matches every
article (best 20); then moves the SQLite store into a fresh database (``scrapy movestore``'s
``move_store``). Prints each figure for both and PostgreSQL's ratio to SQLite.

Not a test: the figures go to docs/scaling.md ("What it costs").
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.articles import ArticleStore  # noqa: E402
from storage.backends.move import move_store  # noqa: E402
from storage.export import export_dataset  # noqa: E402
from tests.postgres import PostgresCluster, find_bindir  # noqa: E402
from tests.test_storage_articles import make_record  # noqa: E402

BODY = "Đoạn văn dài về nông thôn mới ở Nam Định, Đại hội Đảng bộ tỉnh lần thứ XX. " * 30
SEARCHES = 20


def measure(location, folder: Path, articles: int) -> dict[str, float]:
    """Per-operation figures of one store."""
    figures = {}
    with ArticleStore(location) as store:
        started = time.perf_counter()
        for number in range(articles):
            store.upsert(make_record(f"http://x/{number}/", body=f"{BODY}{number}"))
        figures["upsert, ms per article"] = (time.perf_counter() - started) / articles * 1000
        started = time.perf_counter()
        for number in range(articles):
            store.known_article("baonamdinh", f"http://x/{number}/")
        figures["known_article, ms"] = (time.perf_counter() - started) / articles * 1000
        started = time.perf_counter()
        export_dataset(store, folder / "articles.jsonl")
        figures["export, articles per s"] = articles / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(SEARCHES):
            store.search("nong thon moi", limit=20)
        figures["search (all match), ms"] = (time.perf_counter() - started) / SEARCHES * 1000
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=3000)
    args = parser.parse_args()
    bindir = find_bindir()
    if bindir is None:
        sys.exit("PostgreSQL is not installed (make install installs it as root)")
    cluster = PostgresCluster(bindir)
    try:
        folder = Path(tempfile.mkdtemp(prefix="bench-store-"))
        sqlite_file = folder / "articles.sqlite3"
        sqlite = measure(sqlite_file, folder / "sqlite", args.articles)
        postgres = measure(cluster.database(), folder / "postgres", args.articles)
        print(f"{args.articles} articles of ~{len(BODY) // 1000 + 1} KB, PostgreSQL "
              f"{bindir.parent.name} on a unix socket")
        print(f"{'':<28} {'SQLite':>10} {'PostgreSQL':>11} {'ratio':>7}")
        for name, value in sqlite.items():
            print(f"{name:<28} {value:>10.2f} {postgres[name]:>11.2f} "
                  f"{postgres[name] / value:>6.1f}x")
        started = time.perf_counter()
        move_store(sqlite_file, cluster.database())
        elapsed = time.perf_counter() - started
        print(f"movestore: {elapsed:.1f} s, {args.articles / elapsed:.0f} articles per s "
              "(with their versions)")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
