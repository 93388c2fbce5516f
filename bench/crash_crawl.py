"""Acceptance run for crash safety: kill -9 a crawl five times, then check that nothing is lost.

Run from the project root: ``python bench/crash_crawl.py [--articles 2000] [--kills 5]``. One
replica serves the portal (2,000 articles and 2,950 images by default). First an uninterrupted
crawl into a scratch archive measures the work (requests at the replica, wall time); then the same
command is run into a fresh archive and its own process is sent SIGKILL each time the replica has
served another share of that work (1/6, 2/6 … 5/6 of the baseline's requests: kills spread from
discovery to the image phase at the end), and finally it is let finish. Then:

- every article of the replica is stored exactly once (one row, one version);
- every image of every article has a complete ``200`` response or revisit record in the WARC
  files (read back with warcio);
- no ``.open`` file is left, and every WARC file passes ``warcio check`` and reads to its end.

Prints the figures, the requests and wall time against the uninterrupted baseline, and exits 1 if
a check fails. Politeness is relaxed for loopback as ``make demo`` does. Not a test.
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from warcio.archiveiterator import ArchiveIterator  # noqa: E402

from tests.conftest import LOOPBACK_SETTINGS  # noqa: E402
from tests.replica.content import build_site  # noqa: E402
from tests.replica.process import ReplicaProcess  # noqa: E402


def crawl_command(origin: str, archive: Path) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh", "-a", f"base_url={origin}/",
               "-s", f"ARCHIVE_DIR={archive}", "-L", "WARNING"]
    for name, value in {**LOOPBACK_SETTINGS, "PROGRESS_INTERVAL": "0"}.items():
        command += ["-s", f"{name}={value}"]
    return command


def served(replica: ReplicaProcess) -> int:
    return replica.stats()["total"]


def stored(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


def kill_at(command: list[str], replica: ReplicaProcess, requests: int, log: Path) -> bool:
    """Start the crawl and SIGKILL its process once the replica served ``requests``.

    Returns False if the crawl finished first.
    """
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=output)
        try:
            while served(replica) < requests:
                if process.poll() is not None:
                    return False
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)  # the crawler itself, not a shell around it
            process.wait(10)
            return True
        finally:
            if process.poll() is None:
                process.kill()


def archived_paths(warc_dir: Path) -> tuple[set[str], int]:
    """Paths with a complete 200 response or revisit record, and the number of records read."""
    paths, records = set(), 0
    for path in sorted(warc_dir.glob("*.warc.gz*")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream, check_digests=True):
                records += 1
                if record.rec_type not in ("response", "revisit") or not record.http_headers:
                    continue
                if record.http_headers.get_statuscode() == "200":
                    paths.add(urlsplit(record.rec_headers.get_header("WARC-Target-URI")).path)
    return paths, records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=5)
    args = parser.parse_args()
    site = build_site(articles=args.articles)
    images = {image.src for article in site.articles for image in article.images}
    with ReplicaProcess(articles=args.articles) as replica, \
            tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        baseline_archive = scratch / "baseline"
        replica.reset_stats()
        started = time.perf_counter()
        subprocess.run(crawl_command(replica.origin, baseline_archive), cwd=ROOT, check=True,
                       stderr=subprocess.DEVNULL)
        baseline_wall = time.perf_counter() - started
        baseline_requests = served(replica)

        archive = scratch / "archive"
        db = archive / "articles.sqlite3"
        command = crawl_command(replica.origin, archive)
        replica.reset_stats()
        started = time.perf_counter()
        kills = []
        for n in range(1, args.kills + 1):
            moment = baseline_requests * n // (args.kills + 1)
            if not kill_at(command, replica, moment, scratch / f"run-{n}.log"):
                print(f"run {n} finished before the kill at {moment} requests", file=sys.stderr)
                return 1
            kills.append((moment, stored(db)))
        final = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - started
        requests = served(replica)

        summary = json.loads((archive / "last-crawl.json").read_text())
        with sqlite3.connect(db) as connection:
            urls = [row[0] for row in connection.execute("SELECT url FROM articles")]
            versions = connection.execute(
                "SELECT COUNT(*), COUNT(DISTINCT canonical_url), MAX(version) "
                "FROM article_versions").fetchone()
            try:
                assets = dict(connection.execute(
                    "SELECT status, COUNT(*) FROM assets GROUP BY status").fetchall())
            except sqlite3.OperationalError:  # a store from before images were tracked
                assets = {}
        warc_dir = archive / "warc"
        open_files = sorted(warc_dir.glob("*.open"))
        warc_files = sorted(warc_dir.glob("*.warc.gz"))
        checked = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", "-v",
                                  *map(str, warc_files)], capture_output=True, text=True)
        archived, records = archived_paths(warc_dir)

    expected_paths = sorted(article.path for article in site.articles)
    stored_paths = sorted(urlsplit(url).path for url in urls)
    missing = {urlsplit(src).path for src in images} - archived
    checks = {
        "the last run finished": final.returncode == 0 and summary["finish_reason"] == "finished",
        f"every article stored exactly once ({len(urls)} rows, {versions[0]} versions)":
            stored_paths == expected_paths and versions == (len(expected_paths),) * 2 + (1,),
        f"every image archived ({len(images) - len(missing)} of {len(images)})": not missing,
        f"no .open file left ({len(open_files)})": not open_files,
        f"warcio check passes on {len(warc_files)} files ({records} records read to the end)":
            checked.returncode == 0,
    }
    print(f"replica: {args.articles} articles, {len(images)} images")
    print(f"baseline (uninterrupted): {baseline_requests} requests, {baseline_wall:.1f} s wall")
    for n, (moment, count) in enumerate(kills, 1):
        print(f"kill {n}: after {moment} requests served, {count} articles stored")
    print(f"after {len(kills)} kills and a finishing run: {requests} requests "
          f"({requests / baseline_requests:.2f} x baseline), {wall:.1f} s wall "
          f"({wall / baseline_wall:.2f} x baseline)")
    print(f"assets table: {assets}")
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    if checked.returncode:
        print(checked.stdout[-2000:], checked.stderr[-2000:], file=sys.stderr)
    if final.returncode:
        print(final.stderr[-3000:], file=sys.stderr)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
