"""The portal spider against a profiled spider, and its figures on every replica layout.

Run from the project root: ``python bench/bench_portal.py [--articles 240] [--repeat 1]``.

1. Speed: the default (Báo Nam Định) replica crawled by the ``baonamdinh`` spider (its profile)
   and by ``scrapy crawl portal -a url=…`` (no profile: discovery, classification, learning);
   pages/s of each and their ratio (issue 15's target: portal ≥ 0.7× the profiled spider).
2. Quality and incrementality: each layout of ``tests/replica/layouts/`` crawled by the portal
   spider, scored against its ground truth (stored share, lead+body and body 4-shingle F1,
   dates, authors, noise lines, non-articles stored), then crawled again unchanged: the second
   crawl's requests as a share of the first's (target ≤ 5%).

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

from storage.articles import ArticleStore  # noqa: E402
from tests.conftest import LOOPBACK_SETTINGS  # noqa: E402
from tests.replica.content import build_site  # noqa: E402
from tests.replica.layouts import LAYOUTS, make_layout  # noqa: E402
from tests.replica.layouts.scoring import score  # noqa: E402
from tests.replica.process import ReplicaProcess  # noqa: E402


def crawl(spider: str, origin: str, archive: Path) -> tuple[float, dict]:
    """One crawl; wall time and its summary."""
    argument = f"url={origin}/" if spider == "portal" else f"base_url={origin}/"
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-a", argument,
               "-s", f"ARCHIVE_DIR={archive}", "-L", "WARNING"]
    for name, value in {**LOOPBACK_SETTINGS, "PROGRESS_INTERVAL": "0"}.items():
        command += ["-s", f"{name}={value}"]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started, json.loads((archive / "last-crawl.json").read_text())


def speed(articles: int, repeat: int) -> None:
    """Pages/s of the profiled spider and of the portal spider on the same replica."""
    best: dict[str, dict] = {}
    with ReplicaProcess(articles=articles) as replica:
        for _ in range(repeat):
            for spider in ("baonamdinh", "portal"):
                with tempfile.TemporaryDirectory() as archive:
                    _, summary = crawl(spider, replica.origin, Path(archive))
                if spider not in best or summary["pages_per_second"] > best[spider][
                        "pages_per_second"]:
                    best[spider] = summary
    print(f"speed, default replica, {articles} articles, best of {repeat}:")
    for spider, summary in best.items():
        print(f"  {spider:<11} {summary['pages_fetched']:>5} pages, "
              f"{summary['articles_stored']:>4} articles, {summary['elapsed_seconds']:>6.2f} s, "
              f"{summary['pages_per_second']:>6.1f} pages/s")
    ratio = best["portal"]["pages_per_second"] / best["baonamdinh"]["pages_per_second"]
    print(f"  portal / baonamdinh: {ratio:.2f}x pages/s (target >= 0.7x)")


def layouts(articles: int) -> None:
    """Score the portal spider on each layout, then crawl again for incrementality."""
    site = build_site(articles=articles)
    print(f"layouts, {articles} articles:")
    for name in LAYOUTS:
        with ReplicaProcess(articles=articles, layout=name) as replica, \
                tempfile.TemporaryDirectory() as directory:
            archive = Path(directory)
            _, first = crawl("portal", replica.origin, archive)
            first_requests = replica.stats()["total"]
            replica.reset_stats()
            crawl("portal", replica.origin, archive)
            second_requests = replica.stats()["total"]
            with ArticleStore(archive / "articles.sqlite3") as store:
                records = list(store.iter_articles())
        result = score(records, make_layout(name, site).ground_truth())
        print(f"  {name:<11} {result.line()}")
        print(f"  {'':<11} {first['pages_per_second']:.1f} pages/s; requests {first_requests}, "
              f"second crawl {second_requests} ({second_requests / first_requests:.1%}); "
              f"classified {first['pages_classified']}; by route {first['articles_by_route']}; "
              f"traps {first['trap_stops']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=240)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    speed(args.articles, args.repeat)
    layouts(args.articles)


if __name__ == "__main__":
    main()
