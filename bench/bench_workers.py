"""One worker against two on one frontier (REDIS_URL): the crawl phase's speed-up, Redis's cost.

Run from the project root (needs ``redis-server``: ``make install`` as root installs it)::

    .venv/bin/python bench/bench_workers.py [--articles 120] [--latency 0.1] [--download-delay 0.05]

Three crawls of the same replica in one run, each into a fresh archive (one machine: the SQLite
store and the WARC directory shared by the workers):

- ``plain``: one worker, Scrapy's own scheduler (no Redis): the baseline;
- ``redis x1``: one worker on the Redis frontier (``crawler/frontier.py``);
- ``redis x2``: two workers at once on the Redis frontier.

The crawl phase is from the first worker's ``spider_opened`` to the last one's close (the
summaries' ``started`` and ``finished``): process start-up, the same for any number of workers,
is left out. The speed-up is ``redis x1`` over ``redis x2`` (target: 1.6 or more on two cores).

The replica answers every request after ``--latency`` seconds (default 0.1: a provincial portal's
server time, less than real ones take once the network is in), and each worker waits
``--download-delay`` seconds (default 0.05, randomised by Scrapy) between two requests to the
portal, two at a time at most: a polite crawl, ten times faster than the project's defaults
(0.5 s and AutoThrottle) so the bench takes seconds. Without them the replica answers in well
under a millisecond and a worker's crawl is bound by its own CPU (parsing, WARC compression): on
a machine of two cores, shared with the replica and Redis, the ratio would measure the machine,
not the design. A real crawl waits for portals: a worker spends most of its time waiting, and
each worker adds its own requests in flight. (With ``DOWNLOAD_DELAY=0``, Scrapy 2.19 does not
hold a slot to ``CONCURRENT_REQUESTS_PER_DOMAIN``: its downloader starts every queued request of
the slot at once; a delay keeps the limit.)

Redis's cost per request: the CPU time (user + system, of the worker processes and of the
redis-server) of ``redis x1`` minus ``plain``, divided by the requests fetched, and the Redis
commands per request (``INFO stats``). Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import LOOPBACK_SETTINGS  # noqa: E402
from tests.redis_process import MISSING, RedisProcess, available  # noqa: E402
from tests.replica.process import ReplicaProcess  # noqa: E402

# One replica stands for the many portals a fleet of workers crawls: each worker keeps its own
# pace (SHARED_POLITENESS off). On one real portal the workers together keep one crawl's pace
# (crawler/middlewares/shared_politeness.py), so more workers do not crawl one portal faster.
SETTINGS = {**LOOPBACK_SETTINGS, "CONCURRENT_REQUESTS_PER_DOMAIN": "2", "PROGRESS_INTERVAL": "0",
            "FRONTIER_POLL_INTERVAL": "0.2", "SHARED_POLITENESS": "False"}


def start_worker(origin: str, archive: Path, redis_url: str | None,
                 download_delay: float) -> subprocess.Popen:
    """One ``scrapy crawl`` of the replica; on the Redis frontier when ``redis_url`` is given."""
    command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh", "-a", f"base_url={origin}/",
               "-s", f"ARCHIVE_DIR={archive}", "-L", "WARNING"]
    for name, value in {**SETTINGS, "DOWNLOAD_DELAY": str(download_delay)}.items():
        command += ["-s", f"{name}={value}"]
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    if redis_url:
        env["REDIS_URL"] = redis_url
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def wait_worker(process: subprocess.Popen) -> float:
    """Wait for a worker; return its CPU seconds (user + system)."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"a worker failed ({process.returncode}): "
                         f"{process.stderr.read().decode()[-2000:]}")
    return usage.ru_utime + usage.ru_stime


def redis_figures(server: RedisProcess) -> tuple[float, int]:
    """The server's CPU seconds and commands processed so far."""
    with server.client() as client:
        cpu, stats = client.info("cpu"), client.info("stats")
    return cpu["used_cpu_user"] + cpu["used_cpu_sys"], stats["total_commands_processed"]


def run(origin: str, workers: int, server: RedisProcess | None, download_delay: float) -> dict:
    """Crawl the replica with ``workers`` workers into a fresh archive; return the figures."""
    if server is not None:
        server.flush()
        cpu_before, commands_before = redis_figures(server)
    with tempfile.TemporaryDirectory() as directory:
        archive = Path(directory)
        processes = [start_worker(origin, archive, server.url if server else None,
                                  download_delay) for _ in range(workers)]
        cpu = sum(wait_worker(process) for process in processes)
        summaries = [json.loads(path.read_text())
                     for path in (archive / "reports").glob("*/summary.json")]
    started = min(datetime.fromisoformat(summary["started"]) for summary in summaries)
    finished = max(datetime.fromisoformat(summary["finished"]) for summary in summaries)
    figures = {
        "workers": workers,
        "seconds": (finished - started).total_seconds(),
        "pages": sum(summary["pages_fetched"] for summary in summaries),
        "articles": sum(summary["articles_new"] for summary in summaries),
        "worker_cpu": cpu,
        "redis_cpu": 0.0,
        "redis_commands": 0,
    }
    if server is not None:
        cpu_after, commands_after = redis_figures(server)
        figures["redis_cpu"] = cpu_after - cpu_before
        figures["redis_commands"] = commands_after - commands_before
    return figures


def best(runs: list[dict]) -> dict:
    return min(runs, key=lambda figures: figures["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=120)
    parser.add_argument("--latency", type=float, default=0.1,
                        help="seconds the replica takes to answer each request (default 0.1)")
    parser.add_argument("--download-delay", type=float, default=0.05,
                        help="each worker's DOWNLOAD_DELAY (default 0.05)")
    parser.add_argument("--repeat", type=int, default=1, help="keep the fastest of N runs")
    args = parser.parse_args()
    if not available():
        raise SystemExit(MISSING)
    portal_delay = ["--fault", "slow@.", "--fault-burst", "1000000000",
                    "--slow-seconds", str(args.latency)] if args.latency > 0 else []
    with ReplicaProcess(articles=args.articles, extra_args=portal_delay) as replica, \
            RedisProcess() as server:
        delay = args.download_delay
        plain = best([run(replica.origin, 1, None, delay) for _ in range(args.repeat)])
        one = best([run(replica.origin, 1, server, delay) for _ in range(args.repeat)])
        two = best([run(replica.origin, 2, server, delay) for _ in range(args.repeat)])
    print(f"replica: {args.articles} articles, {args.latency:g} s per request; each worker: "
          f"DOWNLOAD_DELAY {delay:g} s, 2 requests at a time; {os.cpu_count()} CPUs")
    print(f"{'crawl':<10} {'workers':>7} {'seconds':>8} {'pages':>6} {'pages/s':>8} "
          f"{'articles':>8} {'cpu s':>6} {'redis cpu s':>11} {'redis cmds':>10}")
    for name, figures in (("plain", plain), ("redis x1", one), ("redis x2", two)):
        print(f"{name:<10} {figures['workers']:>7} {figures['seconds']:>8.2f} "
              f"{figures['pages']:>6} {figures['pages'] / figures['seconds']:>8.1f} "
              f"{figures['articles']:>8} {figures['worker_cpu']:>6.2f} "
              f"{figures['redis_cpu']:>11.3f} {figures['redis_commands']:>10}")
    speedup = one["seconds"] / two["seconds"]
    print(f"crawl-phase speed-up, two workers over one (Redis): {speedup:.2f}x (target >= 1.6)")
    print(f"one Redis worker over the plain crawl: {plain['seconds'] / one['seconds']:.2f}x speed")
    extra_cpu = one["worker_cpu"] + one["redis_cpu"] - plain["worker_cpu"]
    pages = one["pages"]
    print(f"Redis per request: {one['redis_commands'] / pages:.1f} commands, "
          f"{one['redis_cpu'] / pages * 1000:.2f} ms of redis-server CPU, "
          f"{extra_cpu / pages * 1000:+.2f} ms of CPU in all (workers + server) over the plain "
          f"crawl's {plain['worker_cpu'] / plain['pages'] * 1000:.2f} ms")


if __name__ == "__main__":
    main()
