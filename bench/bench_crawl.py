"""Crawl the replica portal end to end and print time and pages per second.

Run from the project root: ``python bench/bench_crawl.py [--articles 240] [--repeat 1]``.
Three configurations crawl the same replica in one run, so only their ratios matter:

- ``full``: the default pipeline (WARC capture, parsing, SQLite store, images),
- ``no-warc``: the same with ``WARC_ENABLED=False``,
- ``fetch-only``: no WARC and no store (pages are still fetched and parsed): the baseline.

Politeness is relaxed for loopback exactly as ``make demo`` does. Not a test.
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

CONFIGURATIONS = {
    "full": {},
    "no-warc": {"WARC_ENABLED": "False"},
    "fetch-only": {"WARC_ENABLED": "False", "ARTICLES_STORE_ENABLED": "False"},
}


def crawl(origin: str, archive: Path, settings: dict[str, str]) -> tuple[float, dict]:
    """Run one crawl; return wall time and its summary."""
    command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh", "-a", f"base_url={origin}/",
               "-s", f"ARCHIVE_DIR={archive}", "-L", "WARNING"]
    for name, value in {**LOOPBACK_SETTINGS, "PROGRESS_INTERVAL": "0", **settings}.items():
        command += ["-s", f"{name}={value}"]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    return elapsed, json.loads((archive / "last-crawl.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=240)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    rows = []
    with ReplicaProcess(articles=args.articles) as replica:
        for name, settings in CONFIGURATIONS.items():
            best = None
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as archive:
                    wall, summary = crawl(replica.origin, Path(archive), settings)
                if best is None or summary["elapsed_seconds"] < best[1]["elapsed_seconds"]:
                    best = (wall, summary)
            rows.append((name, *best))
    baseline = rows[-1][2]["pages_per_second"]
    print(f"replica: {args.articles} articles; best of {args.repeat}")
    print(f"{'config':<11} {'pages':>6} {'articles':>8} {'crawl s':>8} {'wall s':>7} "
          f"{'pages/s':>8} {'vs fetch-only':>13}")
    for name, wall, summary in rows:
        pps = summary["pages_per_second"]
        print(f"{name:<11} {summary['pages_fetched']:>6} {summary['articles_stored']:>8} "
              f"{summary['elapsed_seconds']:>8.2f} {wall:>7.2f} {pps:>8.1f} "
              f"{pps / baseline:>12.2f}x")


if __name__ == "__main__":
    main()
