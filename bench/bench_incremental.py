"""Measure what an incremental recrawl costs against the first crawl of the same portal.

Run from the project root: ``python bench/bench_incremental.py [--articles 2000]``. One replica
serves the portal; three crawls go into one archive:

- ``first``: the archive is empty, everything is fetched;
- ``unchanged``: the same portal again (target: ≤ 5% of the first crawl's requests and time);
- ``edition 2``: the portal has edited 5 articles and published 10 (only those are fetched).

Requests are counted at the replica (``/__replica__/stats``), time is the crawl's own elapsed
time (``last-crawl.json``) and the wall time of the ``scrapy crawl`` process, which includes
Python start-up. Politeness is relaxed for loopback exactly as ``make demo`` does. Not a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import LOOPBACK_SETTINGS  # noqa: E402
from tests.replica.process import ReplicaProcess  # noqa: E402


def crawl(origin: str, archive: Path) -> tuple[float, dict]:
    """Run one crawl; return wall time and its summary."""
    command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh", "-a", f"base_url={origin}/",
               "-s", f"ARCHIVE_DIR={archive}", "-L", "WARNING"]
    for name, value in {**LOOPBACK_SETTINGS, "PROGRESS_INTERVAL": "0"}.items():
        command += ["-s", f"{name}={value}"]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    return elapsed, json.loads((archive / "last-crawl.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    args = parser.parse_args()
    rows = []
    with ReplicaProcess(articles=args.articles) as replica, tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp)
        for name in ("first", "unchanged", "edition 2"):
            if name == "edition 2":
                replica.set_edition(2)  # also zeroes the counts
            else:
                replica.reset_stats()
            wall, summary = crawl(replica.origin, archive)
            rows.append((name, replica.stats()["total"], wall, summary))
    first_requests, first_wall, first = rows[0][1], rows[0][2], rows[0][3]
    print(f"replica: {args.articles} articles")
    print(f"{'crawl':<10} {'requests':>8} {'stored':>7} {'new':>5} {'updated':>7} "
          f"{'crawl s':>8} {'wall s':>7} {'requests %':>10} {'crawl time %':>12} {'wall %':>7}")
    for name, requests, wall, summary in rows:
        print(f"{name:<10} {requests:>8} {summary['articles_stored']:>7} "
              f"{summary['articles_new']:>5} {summary['articles_updated']:>7} "
              f"{summary['elapsed_seconds']:>8.2f} {wall:>7.2f} "
              f"{100 * requests / first_requests:>9.2f}% "
              f"{100 * summary['elapsed_seconds'] / first['elapsed_seconds']:>11.2f}% "
              f"{100 * wall / first_wall:>6.1f}%")


if __name__ == "__main__":
    main()
