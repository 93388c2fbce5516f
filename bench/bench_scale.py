"""Time and peak memory of every archive command on synthetic archives of 100k and 1M articles.

Run from the project root: ``python bench/bench_scale.py [--sizes 100000,1000000]``
(``--sizes 10000`` for a quick run). Not a test.

One replica portal is crawled for real (``--template-articles``, default 200) into a template
archive. For each size N the template is amplified into an archive of N stored articles:

- WARC volume: every archived article (its request, response and metadata records) is copied
  under new URLs and record ids into new WARC files. Only the WARC headers change; the record
  blocks (HTTP headers and payload) are the template's bytes, deflated once and reused, so a
  million copies take minutes. Block and payload digests stay valid.
- Store rows: the template's article row, its version row and its fetch record, copied under
  the new URL with a WARC pointer to the copied response, bulk-inserted into the template's
  store (the bench fabricates rows directly in SQLite: it measures the SQLite store).

A ``--site-share`` of the copies (default 0.1) belongs to ``baonamdinh`` (paths its article
pattern matches, on the replica's host): one paper of N/10 articles inside an archive of N.
The rest are spread over nine synthetic sites whose paths that pattern does not match. The
copies keep their template page, whose canonical URL names the template article: reparse
stores them under it (as "unchanged"), so the reparse figures are of reading and parsing.

Steps, each a ``scrapy`` subprocess whose wall time and peak RSS (``ru_maxrss`` of the child
from ``os.wait4``) are recorded: ``recrawl`` (an unchanged recrawl of baonamdinh against the
replica), ``index``, ``export-jsonl``, ``export-csv``, ``export-parquet``, ``package``,
``reparse`` (baonamdinh), ``sitecheck`` (baonamdinh). Outputs are deleted once measured so a
run needs disk for one archive plus its largest output. ``--project DIR`` runs the commands
from another checkout (e.g. ``git archive`` of an older commit) for before/after figures.
The last table compares each step's time per article and peak RSS between the smallest and
largest size: a time ratio well above 1 is super-linear; an RSS ratio near 1 is bounded.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import LOOPBACK_SETTINGS  # noqa: E402
from tests.replica.process import ReplicaProcess  # noqa: E402

STEPS = ("recrawl", "index", "export-jsonl", "export-csv", "export-parquet", "package",
         "reparse", "sitecheck")
OTHER_SITES = 9
WARC_FILE_BYTES = 1 << 30  # the writer's default rotation size
ROWS_PER_COMMIT = 5000
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


@dataclass
class TemplateRecord:
    """One record of the template: its WARC header lines and its block, deflated once."""

    headers: list[bytes]
    block: bytes
    block_deflated: bytes


@dataclass
class TemplateArticle:
    """An archived article of the template crawl: its three records and its store rows."""

    url: str
    request: TemplateRecord
    response: TemplateRecord
    metadata: TemplateRecord | None
    row: dict
    version_record: str
    fetch_state: dict | None


def crawl(origin: str, archive: Path, project: Path, log: Path) -> tuple[float, int]:
    """Run ``scrapy crawl baonamdinh`` against the replica; return seconds and peak RSS (KiB)."""
    command = ["crawl", "baonamdinh", "-a", f"base_url={origin}/", "-L", "WARNING"]
    for name, value in {**LOOPBACK_SETTINGS, "PROGRESS_INTERVAL": "0"}.items():
        command += ["-s", f"{name}={value}"]
    return run_scrapy(command, archive, project, log)


def run_scrapy(arguments: list[str], archive: Path, project: Path,
               log: Path) -> tuple[float, int]:
    """Run one ``scrapy`` command in ``project``; return wall seconds and the child's peak RSS."""
    command = [sys.executable, "-m", "scrapy", *arguments, "-s", f"ARCHIVE_DIR={archive}"]
    with log.open("ab") as output:
        output.write(f"$ {' '.join(command)}\n".encode())
        output.flush()
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=project, stdout=output, stderr=output)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:  # a WACZ that does not validate exits 1
        raise SystemExit(f"{' '.join(arguments)} failed ({process.returncode}); see {log}")
    return elapsed, usage.ru_maxrss


def _split_record(raw: bytes) -> tuple[list[bytes], bytes]:
    head, _, block = raw.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), block


def _template_record(raw: bytes) -> TemplateRecord:
    headers, block = _split_record(raw)
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflated = deflate.compress(block) + deflate.flush(zlib.Z_FINISH)
    return TemplateRecord(headers, block, deflated)


def read_template(archive: Path) -> list[TemplateArticle]:
    """The template's archived articles: raw records of each stored article, and its rows."""
    db = sqlite3.connect(archive / "articles.sqlite3")
    db.row_factory = sqlite3.Row
    rows = {row["url"]: dict(row) for row in db.execute("SELECT * FROM articles")}
    versions = {row["canonical_url"]: row["record"]
                for row in db.execute("SELECT canonical_url, record FROM article_versions")}
    fetches = {row["url"]: dict(row) for row in db.execute("SELECT * FROM fetch_state")}
    db.close()
    raw: dict[str, dict[str, bytes]] = {}
    by_id: dict[str, str] = {}
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        with path.open("rb") as stream:
            data = stream.read()
        with path.open("rb") as stream:
            records = ArchiveIterator(stream)
            for record in records:
                records.read_to_end(record)
                kind = record.rec_type
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                if kind not in ("request", "response", "metadata") or url not in rows:
                    continue
                start, length = records.get_record_offset(), records.get_record_length()
                member = gzip.decompress(data[start:start + length])
                raw.setdefault(url, {})[kind] = member
                by_id[record.rec_headers.get_header("WARC-Record-ID")] = url
    articles = []
    for url, row in rows.items():
        records = raw.get(url, {})
        if "response" not in records or "request" not in records:
            continue
        articles.append(TemplateArticle(
            url=url, request=_template_record(records["request"]),
            response=_template_record(records["response"]),
            metadata=_template_record(records["metadata"]) if "metadata" in records else None,
            row=row, version_record=versions.get(row["canonical_url"], "{}"),
            fetch_state=fetches.get(url)))
    return articles


def _member(template: TemplateRecord, replace: dict[bytes, bytes]) -> bytes:
    """A gzip member: the template record with headers replaced, its block's deflate reused.

    The header is deflated and fully flushed, so the block's independently deflated bytes
    can follow it in the same member; the trailer's CRC runs over both.
    """
    lines = []
    for line in template.headers:
        name = line.split(b":", 1)[0]
        lines.append(name + b": " + replace[name] if name in replace else line)
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    head_deflated = deflate.compress(head) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(template.block, zlib.crc32(head))
    size = (len(head) + len(template.block)) & 0xFFFFFFFF
    return (GZIP_HEADER + head_deflated + template.block_deflated
            + struct.pack("<II", crc, size))


def new_url(index: int, site: int, origin: str) -> str:
    """The URL of copy ``index``: baonamdinh's article pattern for site 0, another for others."""
    slug = f"bai-viet-tong-hop-so-{index}"
    if site == 0:
        return f"{origin}/channel/5089/2019{1 + index % 12:02d}/{slug}-{90_000_000 + index}/"
    return f"https://synth{site:02d}.example/tin-tuc/{slug}-{index}.html"


class WarcVolume:
    """Copied records written to rotating WARC files, with each response's pointer."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.number = 0
        self.stream = None
        self.name = ""
        self.offset = 0

    def _rotate(self) -> None:
        if self.stream is not None:
            self.stream.close()
        self.name = f"synthetic-20191201000000000000-{self.number:05d}-bench.warc.gz"
        self.number += 1
        self.stream = (self.directory / self.name).open("wb")
        self.offset = 0

    def write(self, member: bytes) -> tuple[str, int, int]:
        if self.stream is None or self.offset >= WARC_FILE_BYTES:
            self._rotate()
        self.stream.write(member)
        start, self.offset = self.offset, self.offset + len(member)
        return self.name, start, len(member)

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


def amplify(archive: Path, templates: list[TemplateArticle], copies: int, origin: str,
            site_share: float) -> None:
    """Add ``copies`` articles (WARC records and store rows) to the archive."""
    volume = WarcVolume(archive / "warc")
    db = sqlite3.connect(archive / "articles.sqlite3")
    db.execute("PRAGMA synchronous=OFF")
    columns = [row[1] for row in db.execute("PRAGMA table_info(articles)")]
    fetch_columns = [row[1] for row in db.execute("PRAGMA table_info(fetch_state)")]
    insert_article = (f"INSERT INTO articles ({', '.join(columns)}) "
                      f"VALUES ({', '.join('?' * len(columns))})")
    insert_fetch = (f"INSERT OR REPLACE INTO fetch_state ({', '.join(fetch_columns)}) "
                    f"VALUES ({', '.join('?' * len(fetch_columns))})")
    insert_version = ("INSERT INTO article_versions (canonical_url, version, content_hash, "
                      "fetched, record) VALUES (?, ?, ?, ?, ?)")
    every = max(1, round(1 / site_share)) if site_share > 0 else 0
    articles, versions, fetches = [], [], []
    for index in range(copies):
        template = templates[index % len(templates)]
        site = 0 if every and index % every == 0 else 1 + index % OTHER_SITES
        url = new_url(index, site, origin)
        response_id = f"<urn:uuid:{uuid.UUID(int=index * 4 + 1)}>".encode()
        common = {b"WARC-Target-URI": url.encode()}
        volume.write(_member(template.request, {
            **common, b"WARC-Record-ID": f"<urn:uuid:{uuid.UUID(int=index * 4)}>".encode(),
            b"WARC-Concurrent-To": response_id}))
        filename, offset, length = volume.write(_member(template.response, {
            **common, b"WARC-Record-ID": response_id}))
        if template.metadata is not None:
            volume.write(_member(template.metadata, {
                **common, b"WARC-Record-ID": f"<urn:uuid:{uuid.UUID(int=index * 4 + 2)}>".encode(),
                b"WARC-Refers-To": response_id}))
        row = dict(template.row)
        pointer = json.loads(row["warc"])
        pointer.update(filename=filename, offset=offset, length=length,
                       record_id=response_id.decode(), target_uri=url)
        row.update(url=url, canonical_url=url, warc=json.dumps(pointer),
                   site="baonamdinh" if site == 0 else f"synth{site:02d}")
        articles.append([row.get(name) for name in columns])
        versions.append((url, 1, row["content_hash"], row["fetched"], template.version_record))
        fetch = dict(template.fetch_state or {"status": 200, "fetched": row["fetched"]})
        fetch["url"] = url
        fetches.append([fetch.get(name) for name in fetch_columns])
        if len(articles) == ROWS_PER_COMMIT or index == copies - 1:
            with db:
                db.executemany(insert_article, articles)
                db.executemany(insert_version, versions)
                db.executemany(insert_fetch, fetches)
            articles, versions, fetches = [], [], []
    volume.close()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def step_arguments(step: str, work: Path, origin: str) -> tuple[list[str], Path | None]:
    """The scrapy arguments of a step (``recrawl`` aside) and the output it leaves, if any."""
    if step.startswith("export-"):
        fmt = step.removeprefix("export-")
        output = work / f"export.{fmt}"
        return ["export", "--format", fmt, "--output", str(output)], output
    if step == "index":  # where reparse and sitecheck look for it
        return ["index"], work / "archive" / "index.cdxj"
    if step == "package":
        return ["package", "--output", str(work / "archive.wacz")], work / "archive.wacz"
    if step == "reparse":
        return ["reparse", "baonamdinh"], None
    if step == "sitecheck":
        return ["sitecheck", "baonamdinh", "--accept", "-s", "SITECHECK_SAMPLE=500"], None
    raise ValueError(step)


def _tree_bytes(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def bench_size(size: int, template_archive: Path, templates: list[TemplateArticle],
               replica: ReplicaProcess, args: argparse.Namespace) -> dict:
    """Build the archive of ``size`` articles and run every step; return the figures."""
    work = args.work / f"n{size}"
    shutil.rmtree(work, ignore_errors=True)
    archive = work / "archive"
    shutil.copytree(template_archive, archive)
    started = time.perf_counter()
    amplify(archive, templates, size - len(templates), replica.origin, args.site_share)
    built = time.perf_counter() - started
    result = {"size": size, "build_seconds": round(built, 1),
              "warc_bytes": _tree_bytes(archive / "warc"),
              "store_bytes": (archive / "articles.sqlite3").stat().st_size, "steps": {}}
    print(f"n={size}: built in {built:.0f} s (WARC {result['warc_bytes'] / 1e9:.2f} GB, "
          f"store {result['store_bytes'] / 1e9:.2f} GB)", flush=True)
    log = work / "steps.log"
    for step in args.steps:
        if step == "recrawl":
            seconds, rss = crawl(replica.origin, archive, args.project, log)
            output = None
        else:
            arguments, output = step_arguments(step, work, replica.origin)
            seconds, rss = run_scrapy(arguments, archive, args.project, log)
        figures = {"seconds": round(seconds, 2), "peak_rss_mb": round(rss / 1024, 1)}
        if output is not None and output.exists():
            figures["output_bytes"] = output.stat().st_size
            if step != "index":  # reparse and sitecheck read the index (if the code does)
                output.unlink()
        result["steps"][step] = figures
        print(f"  {step:<15} {seconds:>9.1f} s {rss / 1024:>9.1f} MB", flush=True)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def print_table(results: list[dict]) -> None:
    """Every step at every size, then the smallest size against the largest."""
    print(f"\n{'step':<15}" + "".join(f"{'n=' + str(r['size']):>24}" for r in results))
    for step in results[0]["steps"]:
        cells = []
        for result in results:
            figures = result["steps"][step]
            cells.append(f"{figures['seconds']:>10.1f} s {figures['peak_rss_mb']:>8.1f} MB")
        print(f"{step:<15}" + "".join(f"{cell:>24}" for cell in cells))
    if len(results) < 2:
        return
    small, large = results[0], results[-1]
    print(f"\nn={large['size']} against n={small['size']}: time per article ratio "
          "(1 = linear), peak RSS ratio (1 = flat)")
    for step in small["steps"]:
        a, b = small["steps"][step], large["steps"][step]
        per_article = (b["seconds"] / large["size"]) / (a["seconds"] / small["size"])
        print(f"  {step:<15} time/article x{per_article:.2f}   RSS x"
              f"{b['peak_rss_mb'] / a['peak_rss_mb']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="comma-separated numbers of stored articles")
    parser.add_argument("--template-articles", type=int, default=200)
    parser.add_argument("--site-share", type=float, default=0.1,
                        help="share of the copies that are baonamdinh's (reparse, sitecheck)")
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_scale"),
                        help="where archives are built (needs room for the largest)")
    parser.add_argument("--project", type=Path, default=ROOT,
                        help="checkout whose scrapy commands are measured")
    parser.add_argument("--keep", action="store_true", help="keep each archive afterwards")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    args.steps = [step for step in args.steps.split(",") if step]
    sizes = sorted(int(size) for size in args.sizes.split(","))
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    with ReplicaProcess(articles=args.template_articles) as replica:
        template_archive = args.work / "template"
        shutil.rmtree(template_archive, ignore_errors=True)
        crawl(replica.origin, template_archive, args.project, args.work / "template.log")
        templates = read_template(template_archive)
        print(f"template: {len(templates)} articles crawled from {replica.origin}", flush=True)
        for size in sizes:
            results.append(bench_size(size, template_archive, templates, replica, args))
            if args.json:
                args.json.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)


if __name__ == "__main__":
    main()
