"""Start-up and memory of an unchanged recrawl, by the number of articles already stored.

Run from the project root::

    python bench/bench_crawl_startup.py [--articles 200] [--stored 100000,1000000]
                                        [--project DIR]

A replica portal of ``--articles`` articles is crawled once (a complete crawl); then, for each
size in ``--stored``, a copy of that archive's store is amplified to that many article rows by
bulk inserts (half of them this site's, on URLs the portal does not list, half another site's,
each with its fetch state; short bodies, one version each), and the portal is crawled again,
unchanged. Reported per size: how long reading the crawl history took (from "Spider opened" to
the history's log line), the time from launch to that line, the recrawl's requests, wall and CPU
time, and its peak resident memory (``ru_maxrss``).

``--project DIR`` runs the crawls from another checkout of the project (e.g. an older commit
unpacked with ``git archive``), for before/after figures with the same store. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import LOOPBACK_SETTINGS  # noqa: E402
from tests.replica.process import ReplicaProcess  # noqa: E402

LOG_FORMAT = "%(created).3f [%(name)s] %(levelname)s: %(message)s"
BATCH = 20_000


def crawl(project: Path, origin: str, archive: Path) -> dict:
    """Crawl the replica from ``project``; times, peak RSS and the log's history line."""
    command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh", "-a", f"base_url={origin}/",
               "-s", f"ARCHIVE_DIR={archive}", "-s", f"LOG_FORMAT={LOG_FORMAT}", "-L", "INFO"]
    for name, value in {**LOOPBACK_SETTINGS, "PROGRESS_INTERVAL": "0"}.items():
        command += ["-s", f"{name}={value}"]
    launched = time.time()
    process = subprocess.Popen(command, cwd=project, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    log = b""
    assert process.stderr is not None
    for chunk in iter(lambda: process.stderr.read(65536), b""):
        log += chunk
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.time() - launched
    text = log.decode("utf-8", "replace")
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"crawl failed:\n{text[-3000:]}")
    opened = re.search(r"^([\d.]+) \[scrapy.core.engine\] INFO: Spider opened", text, re.M)
    history = re.search(r"^([\d.]+) \[spiders.history\] INFO: (.*)$", text, re.M)
    summary = json.loads((archive / "last-crawl.json").read_text())
    return {
        "wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
        "history_s": float(history[1]) - float(opened[1]) if opened and history else None,
        "launch_to_history_s": float(history[1]) - launched if history else None,
        "history_line": history[2] if history else None,
        "pages": summary.get("pages_fetched"),
    }


def amplify(db: Path, origin: str, rows: int) -> None:
    """Add synthetic articles (and their fetch states) until the store holds ``rows``."""
    connection = sqlite3.connect(db)
    have = connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    columns = [row[1] for row in connection.execute("PRAGMA table_info(articles)")]
    first = connection.execute("SELECT * FROM articles LIMIT 1").fetchone()
    template = dict(zip(columns, first, strict=True))
    marks = ", ".join("?" for _ in columns)
    added = 0
    while have + added < rows:
        batch_rows, states = [], []
        for number in range(added, min(added + BATCH, rows - have)):
            site = "baonamdinh" if number % 2 == 0 else "othersite"
            year = 2010 + number % 15
            url = f"{origin}/channel/{5000 + number % 97}/{year}{number % 12 + 1:02d}/bai-{number}/"
            fetched = f"{year}-{number % 12 + 1:02d}-15T08:00:00+00:00"
            row = {**template, "url": url, "canonical_url": url, "site": site,
                   "title": f"Bài {number}", "lead": None, "body": f"Nội dung bài {number}.",
                   "published": f"{year}-{number % 12 + 1:02d}-14T08:00:00+07:00",
                   "fetched": fetched, "first_fetched": fetched, "images": "[]",
                   "content_hash": f"{number:040x}", "version": 1}
            batch_rows.append([row[name] for name in columns])
            states.append((url, 200, f'"{number:x}"', None, row["published"], fetched))
        with connection:
            connection.executemany(f"INSERT INTO articles ({', '.join(columns)}) VALUES ({marks})",
                                   batch_rows)
            connection.executemany("INSERT OR IGNORE INTO fetch_state VALUES (?, ?, ?, ?, ?, ?)",
                                   states)
        added += len(batch_rows)
    connection.execute("ANALYZE")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--stored", default="100000,1000000")
    parser.add_argument("--project", type=Path, default=ROOT)
    args = parser.parse_args()
    sizes = [int(size) for size in args.stored.split(",") if size.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch, \
            ReplicaProcess(articles=args.articles) as replica:
        base = Path(scratch) / "base"
        first = crawl(args.project, replica.origin, base)
        print(f"first crawl: {first['pages']} pages, peak RSS {first['rss_mb']:.0f} MB")
        print(f"{'stored':>9} {'history s':>9} {'launch s':>8} {'pages':>5} {'wall s':>6} "
              f"{'CPU s':>6} {'RSS MB':>6}")
        for size in sizes:
            archive = Path(scratch) / f"stored-{size}"
            shutil.copytree(base, archive)
            (archive / "last-crawl.json").unlink()
            amplify(archive / "articles.sqlite3", replica.origin, size)
            result = crawl(args.project, replica.origin, archive)
            print(f"{size:>9} {result['history_s']:>9.2f} {result['launch_to_history_s']:>8.2f} "
                  f"{result['pages']:>5} {result['wall']:>6.1f} {result['cpu']:>6.1f} "
                  f"{result['rss_mb']:>6.0f}", flush=True)
            print(f"          log: {result['history_line']}", flush=True)
            shutil.rmtree(archive)


if __name__ == "__main__":
    main()
