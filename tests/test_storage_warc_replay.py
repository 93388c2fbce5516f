"""End to end, as an archivist checks an archive: crawl, recrawl, index, replay in pywb, WACZ.

Two `scrapy crawl` runs of an unchanged replica portal go into one archive; the second must write
a revisit record for every page. Then `scrapy index` writes the CDXJ, pywb (installed in its own
virtualenv by `make install`, see the Makefile) replays the archive from that index on loopback,
and `scrapy package` writes a WACZ that `wacz validate` accepts and pywb replays too.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from storage.articles import ArticleStore
from tests.conftest import PROJECT_ROOT, CrawlRun, run_crawl, scrapy
from tests.replica.process import ReplicaProcess

ARTICLES = 60
# pywb pins pyOpenSSL and brings brotlipy (which shadows Brotli): it lives in its own venv.
PYWB_BIN = Path(os.environ.get("PYWB_BIN", PROJECT_ROOT / ".venv" / "pywb" / "bin"))


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` without decoding anything; return status, headers and raw body."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def read_records(paths: list[Path]) -> list[tuple[str, dict[str, str], bytes]]:
    """Type, WARC headers and decoded payload of every record in ``paths``."""
    records = []
    for path in paths:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                records.append(
                    (record.rec_type, dict(record.rec_headers.headers),
                     record.content_stream().read())
                )
    return records


@pytest.fixture(scope="module")
def portal() -> Iterator[ReplicaProcess]:
    """A replica of our own: no other test may change its edition under our recrawl."""
    with ReplicaProcess(articles=ARTICLES) as replica:
        yield replica


@dataclass
class FirstCrawl:
    """The first crawl's run and the WARC files it left (the archive directory is shared)."""

    run: CrawlRun
    files: list[Path]

    @property
    def warc_files(self) -> list[Path]:
        return self.files

    @property
    def db(self) -> Path:
        return self.run.db


@pytest.fixture(scope="module")
def archive(portal, tmp_path_factory) -> tuple[FirstCrawl, CrawlRun]:
    """A crawl and a full recrawl of the unchanged portal into one archive."""
    directory = tmp_path_factory.mktemp("archive")
    first = run_crawl(portal.origin, directory, INCREMENTAL="False")
    assert first.returncode == 0, first.log[-4000:]
    first_files = first.warc_files
    second = run_crawl(portal.origin, directory, INCREMENTAL="False")
    assert second.returncode == 0, second.log[-4000:]
    assert set(first_files) < set(second.warc_files)
    return FirstCrawl(first, first_files), second


@pytest.fixture(scope="module")
def recrawl_files(archive) -> list[Path]:
    """The WARC files the recrawl wrote."""
    first, second = archive
    return sorted(set(second.warc_files) - set(first.warc_files))


def test_every_file_of_crawl_and_recrawl_passes_warcio_check(archive):
    _, second = archive
    files = second.warc_files
    assert all(path.name.endswith(".warc.gz") for path in files)
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, files)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_recrawl_of_unchanged_portal_writes_only_revisits(archive, recrawl_files):
    first, second = archive
    records = read_records(recrawl_files)
    types = Counter(rec_type for rec_type, _, _ in records)
    assert types["response"] == 0, "every page was archived by the first crawl"
    assert types["revisit"] == second.summary["pages_fetched"] > ARTICLES
    first_bytes = sum(p.stat().st_size for p in first.warc_files)
    recrawl_bytes = sum(p.stat().st_size for p in recrawl_files)
    assert recrawl_bytes < first_bytes / 2
    originals = {
        headers["WARC-Record-ID"]: headers for rec_type, headers, _ in read_records(
            first.warc_files) if rec_type == "response"
    }
    for rec_type, headers, payload in records:
        if rec_type != "revisit":
            continue
        original = originals[headers["WARC-Refers-To"]]
        assert headers["WARC-Payload-Digest"] == original["WARC-Payload-Digest"]
        assert headers["WARC-Refers-To-Target-URI"] == original["WARC-Target-URI"]
        assert headers["WARC-Refers-To-Date"] == original["WARC-Date"]
        assert headers["WARC-Profile"].endswith("/revisit/identical-payload-digest")
        assert payload == b""


def test_warcinfo_says_what_made_the_file(archive):
    _, second = archive
    for path in second.warc_files:
        rec_type, _, payload = read_records([path])[0]
        assert rec_type == "warcinfo"
        fields = dict(line.split(": ", 1) for line in payload.decode().splitlines())
        assert fields["isPartOf"] == "baonamdinh"
        assert fields["format"] == "WARC File Format 1.1"
        assert fields["software"].startswith("provincial-news-archiver/")
        assert fields["crawl-id"].startswith("baonamdinh-")
        assert fields["robots"] == "obey"


@pytest.fixture(scope="module")
def cdxj(archive) -> Path:
    """`scrapy index` over the archive."""
    _, second = archive
    result = scrapy("index", "-s", f"ARCHIVE_DIR={second.archive}")
    assert result.returncode == 0, result.stderr
    index = second.archive / "index.cdxj"
    assert f"in {index}" in result.stdout
    return index


def test_index_lists_every_capture_sorted(cdxj, archive):
    _, second = archive
    lines = cdxj.read_text().splitlines()
    assert lines == sorted(lines)
    entries = [json.loads(line.split(" ", 2)[2]) for line in lines]
    mimes = Counter(entry.get("mime") for entry in entries)
    assert mimes["warc/revisit"] == second.summary["pages_fetched"]
    files = {path.name for path in second.warc_files}
    assert {entry["filename"] for entry in entries} == files


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def wayback(root: Path) -> Iterator[str]:
    """pywb's `wayback` serving the collections of ``root`` on loopback; yield its origin."""
    command = PYWB_BIN / "wayback"
    if not command.exists():
        pytest.fail(f"pywb is not installed at {command}: run `make install` (or set PYWB_BIN)")
    port = free_port()
    with (root / "wayback.log").open("wb") as log:
        process = subprocess.Popen([str(command), "-b", "127.0.0.1", "-p", str(port)], cwd=root,
                                   stdout=log, stderr=subprocess.STDOUT)
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                fetch(origin + "/")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("pywb did not start:\n" + (root / "wayback.log").read_text())
                time.sleep(0.2)
        yield origin
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def pywb(cdxj, archive, tmp_path_factory) -> Iterator[str]:
    """pywb replaying the archive's WARC directory from our CDXJ index."""
    _, second = archive
    root = tmp_path_factory.mktemp("pywb")
    (root / "indexes").mkdir()
    shutil.copy(cdxj, root / "indexes" / "index.cdxj")
    (root / "config.yaml").write_text(
        "collections:\n"
        "  news:\n"
        f"    index_paths: {root / 'indexes'}/\n"
        f"    archive_paths: {second.archive / 'warc'}/\n"
    )
    with wayback(root) as origin:
        yield origin


def capture_times(archive) -> tuple[str, str]:
    """14-digit timestamps of the first crawl's start and the recrawl's end."""
    first, second = archive

    def stamps(files: list[Path]) -> list[str]:
        return sorted(
            headers["WARC-Date"][:19].replace("-", "").replace("T", "").replace(":", "")
            for path in files for rec_type, headers, _ in read_records([path])
            if rec_type == "warcinfo"
        )

    return stamps(first.warc_files)[0], stamps(second.warc_files)[-1]


def article_page(archive) -> tuple[str, str]:
    """URL of an archived article and of its first image, from the article store."""
    first, _ = archive
    with ArticleStore(first.db) as store:
        article = next(a for a in store.iter_articles() if a["images"])
    return article["warc"]["target_uri"], article["images"][0]["src"]


def memento_datetime(files: list[Path], rec_type: str, url: str) -> str:
    """The ``WARC-Date`` of the one ``rec_type`` record of ``url`` in ``files``, as pywb's
    ``Memento-Datetime`` gives it (an HTTP date, whole seconds)."""
    (date,) = [headers["WARC-Date"] for kind, headers, _ in read_records(files)
               if kind == rec_type and headers["WARC-Target-URI"] == url]
    moment = datetime.fromisoformat(date.replace("Z", "+00:00"))
    return format_datetime(moment.replace(microsecond=0), usegmt=True)


@pytest.mark.parametrize("crawl", ["original", "revisit"])
def test_pywb_replays_the_article_page_as_served(pywb, archive, recrawl_files, portal, crawl):
    page_url, _ = article_page(archive)
    first_time, _ = capture_times(archive)
    timestamp = first_time if crawl == "original" else "29991231235959"
    status, headers, replayed = fetch(f"{pywb}/news/{timestamp}id_/{page_url}")
    assert status == 200
    # The portal sends the page gzip-encoded; the WARC keeps it so and pywb decodes it.
    live_status, live_headers, live_gzip = fetch(page_url, **{"Accept-Encoding": "gzip"})
    assert live_headers.get("Content-Encoding") == "gzip"
    assert headers.get("X-Archive-Orig-Content-Encoding") == "gzip"
    assert replayed == gzip.decompress(live_gzip)
    # The capture asked for: the first crawl's response, or the recrawl's revisit record
    # resolved to the original payload. Same bytes either way; only the time tells them apart.
    first, _ = archive
    mementos = {"original": memento_datetime(first.warc_files, "response", page_url),
                "revisit": memento_datetime(recrawl_files, "revisit", page_url)}
    assert mementos["original"] != mementos["revisit"]  # the crawls ran at different seconds
    assert headers["Memento-Datetime"] == mementos[crawl]


def test_pywb_replays_the_article_image_byte_for_byte(pywb, archive, recrawl_files):
    _, image_url = article_page(archive)
    first_time, _ = capture_times(archive)
    first, _ = archive
    # A recrawl does not fetch an archived image again: both times replay the one capture.
    assert not any(headers.get("WARC-Target-URI") == image_url
                   for _, headers, _ in read_records(recrawl_files))
    memento = memento_datetime(first.warc_files, "response", image_url)
    for timestamp in (first_time, "29991231235959"):
        status, headers, replayed = fetch(f"{pywb}/news/{timestamp}id_/{image_url}")
        assert status == 200
        assert headers["Content-Type"].startswith("image/")
        assert replayed == fetch(image_url)[2]
        assert headers["Memento-Datetime"] == memento, timestamp


def test_pywb_rewritten_page_shows_the_article(pywb, archive):
    page_url, image_url = article_page(archive)
    first, _ = archive
    with ArticleStore(first.db) as store:
        title = next(a for a in store.iter_articles() if a["url"] == page_url)["title"]
    # mp_: the page as a browser gets it inside pywb's frame, links rewritten into the archive.
    status, _, page = fetch(f"{pywb}/news/29991231235959mp_/{page_url}")
    assert status == 200
    text = page.decode("utf-8")
    assert title in text
    assert f'src="/news/29991231235959im_/{image_url}"' in text


@pytest.fixture(scope="module")
def wacz(archive, tmp_path_factory) -> Path:
    """`scrapy package` of the archive."""
    _, second = archive
    output = tmp_path_factory.mktemp("wacz") / "baonamdinh.wacz"
    result = scrapy("package", "--output", str(output), "-s", f"ARCHIVE_DIR={second.archive}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "wacz validate passed" in result.stdout
    return output


def test_package_writes_a_wacz_that_validates(archive, wacz):
    first, second = archive
    output = wacz
    validate = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(output)],
                              capture_output=True, text=True)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    with zipfile.ZipFile(output) as wacz:
        names = set(wacz.namelist())
        header, *pages = map(json.loads, wacz.read("pages/pages.jsonl").splitlines())
    assert {f"archive/{path.name}" for path in second.warc_files} <= names
    assert "indexes/index.cdx.gz" in names and "datapackage.json" in names
    assert header["format"] == "json-pages-1.0"
    with ArticleStore(second.db) as store:
        articles = {a["url"]: a for a in store.iter_articles()}
    assert len(pages) == len(articles) == ARTICLES
    for page in pages:
        article = articles[page["url"]]
        assert page["title"] == article["title"]
        assert page["ts"].endswith("Z") and page["ts"][:10] == article["fetched"][:10]


def test_pywb_replays_the_wacz(wacz, archive, tmp_path):
    subprocess.run([str(PYWB_BIN / "wb-manager"), "init", "news"], cwd=tmp_path, check=True,
                   capture_output=True)
    add = subprocess.run([str(PYWB_BIN / "wb-manager"), "add", "--unpack-wacz", "news", str(wacz)],
                         cwd=tmp_path, capture_output=True, text=True)
    assert add.returncode == 0, add.stdout + add.stderr
    page_url, image_url = article_page(archive)
    with wayback(tmp_path) as origin:
        status, _, page = fetch(f"{origin}/news/29991231235959id_/{page_url}")
        assert status == 200
        assert page == gzip.decompress(fetch(page_url, **{"Accept-Encoding": "gzip"})[2])
        status, _, image = fetch(f"{origin}/news/29991231235959id_/{image_url}")
        assert status == 200 and image == fetch(image_url)[2]
