"""Crawl CPU against a minimal plain Scrapy spider on the same URLs, and crawl memory by size.

Run from the project root::

    python bench/bench_crawl_cpu.py [--articles 2000] [--rounds 3] [--baseline DIR]
                                    [--callgrind] [--memory 500,10000] [--keep DIR]

In one run, against one replica portal of ``--articles`` articles:

1. the full pipeline (``scrapy crawl baonamdinh``: WARC capture, parsing, the article store,
   images, the job directory) crawls it;
2. a minimal plain Scrapy spider (default Scrapy settings, no project components) fetches the
   very URLs the full crawl fetched (read back from its WARC files), doing nothing with them;

and both report pages per CPU-second (user + system time of the crawl process, start-up
included) and their ratio. ``--rounds`` repeats both, alternating, and reports every round's
ratio, the median, and the ratio of each crawl's best round (other work on the machine moves
single runs by ±0.1 and more; it only ever adds CPU time, so the best round is the closest to
a crawl's own cost). ``--baseline DIR``
adds, in each round, a full crawl from another checkout of the project (e.g. the commit before
a change, unpacked with ``git archive``): before and after under the same conditions.
``--callgrind`` runs every crawl under ``valgrind --tool=callgrind`` and counts user-space
instructions instead of CPU seconds: ~50 times slower, but the same on a busy machine as on an
idle one (system time, e.g. of file writes, is not counted). Then, for each size in
``--memory``, a full crawl of a fresh replica of that many articles reports its peak resident
memory (``ru_maxrss`` of the process).

Politeness is relaxed for loopback as the tests do. ``--keep DIR`` leaves the full crawl's
archive in DIR (to compare records across versions: ``bench/bench_crawl_compare.py``). Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import LOOPBACK_SETTINGS  # noqa: E402
from tests.replica import process as replica_process  # noqa: E402
from tests.replica.process import ReplicaProcess  # noqa: E402

# A replica of 10,000 articles takes longer than a test's replica to build.
replica_process.START_TIMEOUT = 600.0

PLAIN_SPIDER = '''
import scrapy


class Plain(scrapy.Spider):
    """Fetch every URL of a list, once, and do nothing with the answers."""

    name = "plain"
    custom_settings = {
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "ROBOTSTXT_OBEY": False,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    }

    async def start(self):
        with open(self.urls, encoding="utf-8") as urls:
            for url in urls:
                yield scrapy.Request(url.strip(), dont_filter=True)

    def parse(self, response):
        self.crawler.stats.inc_value("plain/pages")
'''


# Set by --callgrind: crawls run under callgrind, and cost instructions instead of CPU seconds.
CALLGRIND = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
COUNT_INSTRUCTIONS = False


def measured(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """Run a command; return its wall seconds, CPU seconds (user + system) and peak RSS (KB).

    With `COUNT_INSTRUCTIONS`, the second figure is the user-space instructions callgrind counted.
    """
    if COUNT_INSTRUCTIONS:
        command = CALLGRIND + command
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    # wait4 gives this child's own resource usage, not all children's together.
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    if process.returncode:
        raise SystemExit(f"{' '.join(command[:4])} failed ({process.returncode}):\n{errors}")
    cost = usage.ru_utime + usage.ru_stime
    if COUNT_INSTRUCTIONS:
        cost = int(re.search(r"Collected : (\d+)", errors).group(1))
    return time.perf_counter() - started, cost, usage.ru_maxrss


def full_crawl(origin: str, archive: Path, project: Path = ROOT):
    """The full pipeline's crawl of the replica: (wall s, CPU s, peak RSS KB, summary)."""
    command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh", "-a", f"base_url={origin}/",
               "-s", f"ARCHIVE_DIR={archive}", "-L", "WARNING"]
    for name, value in {**LOOPBACK_SETTINGS, "PROGRESS_INTERVAL": "0"}.items():
        command += ["-s", f"{name}={value}"]
    wall, cpu, rss = measured(command, project)
    return wall, cpu, rss, json.loads((archive / "last-crawl.json").read_text())


def fetched_urls(archive: Path) -> list[str]:
    """The target URL of every request the crawl archived, in archive order."""
    urls = []
    for path in sorted((archive / "warc").rglob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "request":
                    urls.append(record.rec_headers.get_header("WARC-Target-URI"))
    return urls


def plain_crawl(urls: list[str], workdir: Path) -> tuple[float, float, int]:
    """The minimal spider's fetch of ``urls``, outside the project (no project settings)."""
    (workdir / "plain.py").write_text(PLAIN_SPIDER, encoding="utf-8")
    (workdir / "urls.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    return measured([sys.executable, "-m", "scrapy", "runspider", "plain.py", "-a",
                     "urls=urls.txt"], workdir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1,
                        help="full and plain crawls, alternating; the median ratio is reported")
    parser.add_argument("--baseline", type=Path,
                        help="also crawl from this checkout in each round (before/after)")
    parser.add_argument("--memory", default="500,10000",
                        help="replica sizes whose full crawl's peak RSS is measured ('' for none)")
    parser.add_argument("--keep", type=Path, help="keep the full crawl's archive here")
    parser.add_argument("--skip-cpu", action="store_true", help="measure memory only")
    parser.add_argument("--callgrind", action="store_true",
                        help="count instructions (valgrind) instead of CPU seconds: what the "
                             "machine's load cannot move; ~50 times slower")
    parser.add_argument("--project", type=Path, default=ROOT,
                        help="run the full crawls from this checkout (before/after figures)")
    args = parser.parse_args()
    global COUNT_INSTRUCTIONS
    COUNT_INSTRUCTIONS = args.callgrind
    with tempfile.TemporaryDirectory(prefix="bench-crawl-cpu-") as scratch:
        scratch = Path(scratch)
        if not args.skip_cpu:
            cpu_rounds(args, scratch)
        sizes = [int(size) for size in args.memory.split(",") if size.strip()]
        peaks = {}
        for size in sizes:
            with ReplicaProcess(articles=size) as replica:
                archive = scratch / f"memory-{size}"
                wall, cpu, rss, summary = full_crawl(replica.origin, archive, args.project)
            peaks[size] = rss
            print(f"memory: {size} articles, {summary['pages_fetched']} pages, "
                  f"{summary['articles_stored']} stored: peak RSS {rss / 1024:.0f} MB "
                  f"({wall:.0f} s wall, {cpu:.0f} s CPU)")
        if len(peaks) > 1:
            low, high = peaks[min(peaks)], peaks[max(peaks)]
            print(f"peak RSS {max(peaks)} vs {min(peaks)} articles: {high / low:.2f}x")


def cpu_rounds(args: argparse.Namespace, scratch: Path) -> None:
    """Full crawls (and baseline ones) and the plain spider, ``--rounds`` times, alternating."""
    projects = {"full": args.project}
    if args.baseline:
        projects["baseline"] = args.baseline
    rates: dict[str, list[float]] = {name: [] for name in [*projects, "plain"]}
    # Instructions are shown in billions: pages per G-instruction against pages per CPU-second.
    unit, scale = ("G ins", 1e9) if COUNT_INSTRUCTIONS else ("CPU s", 1.0)
    print(f"{'round':<6} {'crawl':<9} {'wall s':>7} {unit:>7} {'pages/' + unit:>12} "
          f"{'RSS MB':>7}")
    with ReplicaProcess(articles=args.articles) as replica:
        urls: list[str] = []
        for number in range(1, args.rounds + 1):
            for name, project in projects.items():
                archive = scratch / f"{name}-{number}"
                if args.keep and name == "full" and number == 1:
                    archive = args.keep
                wall, cpu, rss, summary = full_crawl(replica.origin, archive, project)
                cpu /= scale
                if not urls:
                    urls = fetched_urls(archive)
                    print(f"replica: {args.articles} articles; {len(urls)} pages fetched, "
                          f"{summary['articles_stored']} articles stored")
                rates[name].append(len(urls) / cpu)
                print(f"{number:<6} {name:<9} {wall:>7.1f} {cpu:>7.2f} {rates[name][-1]:>12.1f} "
                      f"{rss / 1024:>7.0f}")
                if archive != args.keep:
                    shutil.rmtree(archive)
            wall, cpu, rss = plain_crawl(urls, scratch)
            cpu /= scale
            rates["plain"].append(len(urls) / cpu)
            print(f"{number:<6} {'plain':<9} {wall:>7.1f} {cpu:>7.2f} {rates['plain'][-1]:>12.1f} "
                  f"{rss / 1024:>7.0f}")
    for name in projects:
        ratios = [full / plain for full, plain in zip(rates[name], rates["plain"], strict=True)]
        # The best round of each (least CPU), as timeit advises: the machine's other work only
        # ever adds to a run's CPU time, so the fastest run is the closest to the crawl's own.
        print(f"ratio {name}/plain by round: {', '.join(f'{r:.2f}' for r in ratios)}; "
              f"median {statistics.median(ratios):.2f}x; best rounds "
              f"{max(rates[name]) / max(rates['plain']):.2f}x")
    if args.baseline:
        ratios = [full / base for full, base in zip(rates["full"], rates["baseline"], strict=True)]
        print(f"ratio full/baseline by round: {', '.join(f'{r:.2f}' for r in ratios)}; "
              f"median {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
