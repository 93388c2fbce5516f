"""Bad input to the project's commands: one line naming it, a non-zero exit, no file touched.

Each case runs the real command line (``python -m scrapy …``) against a small archive: a store of
three articles, a closed WARC file, the last crawl's summary and failure report. Read-only files
are made read-only for root too, by running the command without ``CAP_DAC_OVERRIDE``.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storage.articles import ArticleStore
from tests.conftest import PROJECT_ROOT, scrapy
from tests.test_storage_articles import make_record

# Root ignores file modes; without these capabilities it obeys them like any user.
UNPRIVILEGED = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search"]


def unprivileged(*args: str):
    """Run a command as a user who cannot write read-only files (root loses its override)."""
    if os.geteuid() != 0:
        return scrapy(*args)
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: read-only files stay writable")
    return subprocess.run([*UNPRIVILEGED, sys.executable, "-m", "scrapy", *args],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``directory`` with its size and modification time (ns)."""
    return {
        str(path.relative_to(directory)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(directory.rglob("*")) if not path.is_dir()
    }


def assert_one_line(result, *named: str, code: int = 2) -> str:
    """The command failed with ``code`` and said why in one line naming each of ``named``."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for name in named:
        assert name in lines[0], lines[0]
    assert result.returncode == code, result.stderr
    return lines[0]


def write_warc(path: Path) -> None:
    """A closed WARC file holding one response, written by warcio."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                   protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            "http://x/0/", "response", payload=io.BytesIO(b"<html><h1>T</h1></html>"),
            http_headers=headers))


@pytest.fixture()
def archive(tmp_path) -> Path:
    archive = tmp_path / "archive"
    with ArticleStore(archive / "articles.sqlite3") as store:
        for number in range(3):
            store.upsert(make_record(f"http://x/{number}/", published=f"2020-02-1{number}"))
    write_warc(archive / "warc" / "baonamdinh-20200212000000-00000-x.warc.gz")
    (archive / "failures.jsonl").write_text('{"url": "http://x/9/"}\n', encoding="utf-8")
    (archive / "last-crawl.json").write_text('{"spider": "baonamdinh"}', encoding="utf-8")
    return archive


def in_archive(archive: Path, *args: str):
    return scrapy(*args, "-s", f"ARCHIVE_DIR={archive}")


@pytest.mark.parametrize(("options", "named"), [
    (["--since", "2020-13-45"], ["--since", "2020-13-45"]),
    (["--since", "2020-03-01", "--until", "2020-02-01"], ["--since", "--until"]),
    (["--site", "nosuchsite"], ["--site", "nosuchsite"]),
])
def test_export_refuses_bad_dates_and_unknown_sites(archive, tmp_path, options, named):
    before = snapshot(tmp_path)
    result = in_archive(archive, "export", "--output", str(tmp_path / "out.jsonl"), *options)
    assert_one_line(result, *named)
    assert snapshot(tmp_path) == before


def test_export_refuses_a_directory_as_output(archive, tmp_path):
    before = snapshot(tmp_path)
    result = in_archive(archive, "export", "--output", str(archive))
    assert_one_line(result, str(archive), "directory")
    assert snapshot(tmp_path) == before


def test_export_to_an_unwritable_place_says_so(archive, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    result = unprivileged("export", "-s", f"ARCHIVE_DIR={archive}",
                          "--output", str(locked / "out.jsonl"))
    assert_one_line(result, str(locked / "out.jsonl"), "Permission denied")
    assert list(locked.iterdir()) == []


def test_export_reads_a_read_only_store(archive, tmp_path):
    store = archive / "articles.sqlite3"
    store.chmod(0o444)
    archive.chmod(0o555)
    before = snapshot(archive)
    result = unprivileged("export", "-s", f"ARCHIVE_DIR={archive}",
                          "--output", str(tmp_path / "out.jsonl"))
    assert result.returncode == 0, result.stderr
    assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()) == 3
    assert snapshot(archive) == before


def test_export_names_a_store_that_is_not_a_database(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "articles.sqlite3").write_bytes(b"not a database at all" * 100)
    result = in_archive(archive, "export", "--output", str(tmp_path / "out.jsonl"))
    assert_one_line(result, str(archive / "articles.sqlite3"))
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "not an HTML page"),
    (gzip.compress(b"<html><body><h1>Half</h1>" * 50)[:40], "gzip"),
])
def test_extract_refuses_an_empty_binary_or_broken_file(tmp_path, content, reason):
    path = tmp_path / ("page.html.gz" if reason == "gzip" else "page.html")
    path.write_bytes(content)
    result = scrapy("extract", str(path), "--url", "https://baonamdinh.vn/channel/5085/x-1/")
    assert_one_line(result, str(path), reason)
    assert result.stdout == ""


def test_extract_warns_when_a_page_holds_no_article(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<html><head></head><body><nav><a href='/'>Trang chủ</a></nav></body></html>",
                    encoding="utf-8")
    result = scrapy("extract", str(path), "--url", "https://baonamdinh.vn/channel/5085/x-1/")
    assert_one_line(result, str(path), "neither a title nor a body", code=1)
    assert json.loads(result.stdout)["title"] is None


def test_extract_refuses_a_url_that_is_not_one(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<html><h1>Tiêu đề</h1><p>Đoạn một.</p></html>", encoding="utf-8")
    assert_one_line(scrapy("extract", str(path), "--url", "baonamdinh"), "--url", "baonamdinh")


def test_index_without_warc_files_says_so_in_one_line(tmp_path):
    result = in_archive(tmp_path / "nothing", "index")
    assert_one_line(result, str(tmp_path / "nothing" / "warc"), "crawl first")


@pytest.mark.parametrize("command", ["index", "package"])
def test_index_and_package_refuse_a_directory_as_output(archive, tmp_path, command):
    target = tmp_path / "out.wacz"
    target.mkdir()
    before = snapshot(tmp_path)
    result = in_archive(archive, command, "--output", str(target))
    assert_one_line(result, str(target), "directory")
    assert snapshot(tmp_path) == before


def test_index_names_a_warc_file_it_cannot_read(archive):
    broken = archive / "warc" / "broken-20200212000000-00001-x.warc.gz"
    broken.write_bytes(b"this is not a WARC file\n" * 10)
    result = in_archive(archive, "index", "--output", str(archive / "index.cdxj"))
    assert_one_line(result, str(broken))
    assert not (archive / "index.cdxj").exists()


def test_report_of_a_missing_archive_says_so(tmp_path):
    assert_one_line(in_archive(tmp_path / "typo", "report"), str(tmp_path / "typo"))


def test_report_names_an_unreadable_summary_and_reports_the_rest(archive):
    (archive / "last-crawl.json").write_text('{"spider": "baonam', encoding="utf-8")
    result = in_archive(archive, "report")
    assert_one_line(result, str(archive / "last-crawl.json"), code=1)
    assert "baonamdinh: 3 articles" in result.stdout


@pytest.fixture()
def crawled(full_crawl, tmp_path) -> Path:
    """A copy of the session's crawl: reparse and sitecheck need archived article pages."""
    archive = tmp_path / "crawled"
    (archive / "warc").mkdir(parents=True)
    for path in full_crawl.warc_files:
        shutil.copy(path, archive / "warc" / path.name)
    shutil.copy(full_crawl.db, archive / "articles.sqlite3")
    return archive


def test_reparse_into_a_read_only_store_says_so(crawled):
    store = crawled / "articles.sqlite3"
    store.chmod(0o444)
    crawled.chmod(0o555)
    before = snapshot(crawled)
    result = unprivileged("reparse", "baonamdinh", "-s", f"ARCHIVE_DIR={crawled}")
    assert_one_line(result, str(store), "--dry-run")
    assert snapshot(crawled) == before


def test_sitecheck_names_an_unreadable_previous_check(crawled):
    previous = crawled / "sitecheck" / "baonamdinh.json"
    previous.parent.mkdir()
    previous.write_text("{", encoding="utf-8")
    result = in_archive(crawled, "sitecheck", "baonamdinh")
    assert_one_line(result, str(previous))
    assert previous.read_text(encoding="utf-8") == "{"


def test_addsite_refuses_a_url_that_is_not_one(tmp_path):
    result = scrapy("addsite", "newoutlet", "foo", "-s", f"ADDSITE_SPIDERS_DIR={tmp_path / 's'}",
                    "-s", f"ADDSITE_FIXTURES_DIR={tmp_path / 'f'}")
    assert_one_line(result, "URL foo")
    assert list(tmp_path.iterdir()) == []


def test_addsite_names_a_file_that_is_not_a_warc(tmp_path):
    warc = tmp_path / "pages.warc.gz"
    warc.write_bytes(b"<html>not a WARC</html>")
    result = scrapy("addsite", "newoutlet", "https://x.vn/a-1.html", "--from-warc", str(warc),
                    "-s", f"ADDSITE_SPIDERS_DIR={tmp_path / 's'}",
                    "-s", f"ADDSITE_FIXTURES_DIR={tmp_path / 'f'}")
    assert_one_line(result, str(warc))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pages.warc.gz"]


@pytest.fixture(autouse=True)
def _writable_again(tmp_path):
    """Give pytest back the right to delete what a test made read-only."""
    yield
    for path in [tmp_path, *tmp_path.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
