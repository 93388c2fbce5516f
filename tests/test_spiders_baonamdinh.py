"""End to end: crawl the replica portal with the baonamdinh spider and check what a user gets."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.parsing.text import is_punctuation_only
from storage.articles import ArticleStore
from tests.conftest import run_crawl, scrapy
from tests.replica.content import SEED_ARTICLE_ID

SEED_CAPTION = (
    "Đồng chí Trần Văn Chung, Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh phát biểu chỉ "
    "đạo tại hội nghị."
)


@pytest.fixture(scope="module")
def stored(full_crawl) -> dict[str, dict]:
    """Stored articles keyed by URL path."""
    with ArticleStore(full_crawl.db) as store:
        return {urlsplit(r["url"]).path: r for r in store.iter_articles()}


def test_crawl_ends_cleanly_with_a_summary(full_crawl, site):
    summary = full_crawl.summary
    assert summary["finish_reason"] == "finished"
    assert summary["articles_stored"] == len(site.articles)
    assert summary["articles_dropped"] == 0
    assert summary["errors_logged"] == 0, full_crawl.log[-3000:]
    assert summary["warc_files"] >= 1 and summary["warc_bytes"] > 0
    assert "Crawl summary: baonamdinh (finished)" in full_crawl.log


def test_every_article_is_stored_exactly_once(full_crawl, site, stored):
    with sqlite3.connect(full_crawl.db) as connection:
        urls = [row[0] for row in connection.execute("SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == len(site.articles)
    assert set(stored) == {article.path for article in site.articles}
    assert all(record["version"] == 1 for record in stored.values())


def test_every_field_matches_the_page(site, stored, replica):
    for article in site.articles:
        record = stored[article.path]
        assert record["title"] == article.title, article.path
        assert record["lead"] == article.lead, article.path
        assert record["body"] == "\n\n".join(article.paragraphs), article.path
        assert record["published"] == article.published_iso, article.path
        assert record["authors"] == list(article.authors), article.path
        assert record["credit"] == article.credit, article.path
        assert record["section"] == article.section.name, article.path
        assert record["tags"] == list(article.tags), article.path
        assert record["canonical_url"] == replica.origin + article.path
        assert record["images"] == [
            {"src": replica.origin + image.src, "caption": image.caption, "credit": image.credit}
            for image in article.images
        ], article.path
        assert record["language"] == "vi"
        assert record["site"] == "baonamdinh"


def test_bodies_hold_no_noise(site, stored):
    for article in site.articles:
        body = stored[article.path]["body"]
        paragraphs = body.split("\n\n")
        assert not any(is_punctuation_only(p) for p in paragraphs), article.path
        for image in article.images:
            assert image.caption not in body, article.path
        if article.byline_text:
            assert article.byline_text not in paragraphs, article.path
        assert "Cập nhật lúc" not in body
        for noise in ("Chia sẻ", "Tin liên quan", "QUẢNG CÁO", "Từ khóa"):
            assert noise not in body, (article.path, noise)


def test_seed_article_matches_the_example_readme(site, stored):
    seed = next(a for a in site.articles if a.id == SEED_ARTICLE_ID)
    record = stored[seed.path]
    assert record["title"] == (
        "Khối thi đua Mặt trận Tổ quốc và các đoàn thể tỉnh phát động phong trào thi đua năm 2020"
    )
    assert record["published"] == "2020-02-12T19:29:00+07:00"
    assert record["authors"] == ["Lam Hồng"]
    assert record["credit"] == "Tin, ảnh"
    assert [image["caption"] for image in record["images"]] == [SEED_CAPTION]
    assert record["lead"].startswith("Chiều 12-2, Khối thi đua")
    paragraphs = record["body"].split("\n\n")
    assert [p[:8] for p in paragraphs] == ["Năm 2019", "Năm 2020", "Phát biể"]
    assert paragraphs[-1].endswith("Đảng bộ các cấp./.")
    for line in (SEED_CAPTION, "Tin, ảnh: Lam Hồng", ",", "."):
        assert line not in paragraphs
    assert "Cập nhật" not in record["body"]


def test_every_warc_file_is_valid(full_crawl):
    assert full_crawl.warc_files
    for path in full_crawl.warc_files:
        assert path.name.endswith(".warc.gz"), "files are closed (no .open left)"
        assert re.fullmatch(r"[\w.-]+-\d{14,20}-\d{5}-[\w.-]+\.warc\.gz", path.name), path.name
        check = subprocess.run(
            [sys.executable, "-m", "warcio.cli", "check", str(path)], capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        with open(path, "rb") as handle:
            types = Counter(record.rec_type for record in ArchiveIterator(handle))
        assert types["warcinfo"] == 1
        assert types["request"] == types["response"] > 0


def test_each_article_points_to_its_response_record(full_crawl, stored):
    warc_dir = full_crawl.archive / "warc"
    for record in stored.values():
        pointer = record["warc"]
        with open(warc_dir / pointer["filename"], "rb") as handle:
            handle.seek(pointer["offset"])
            warc_record = next(iter(ArchiveIterator(handle)))
            assert warc_record.rec_type == "response"
            assert warc_record.rec_headers.get_header("WARC-Record-ID") == pointer["record_id"]
            assert warc_record.rec_headers.get_header("WARC-Target-URI") == record["url"]
            html = warc_record.content_stream().read()
        assert record["title"].encode("utf-8") in html


def test_images_are_archived(full_crawl, stored):
    image_urls = {image["src"] for record in stored.values() for image in record["images"]}
    archived = set()
    for path in full_crawl.warc_files:
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response":
                    archived.add(record.rec_headers.get_header("WARC-Target-URI"))
    assert image_urls and image_urls <= archived


def test_jsonl_export_has_every_article(full_crawl, site, tmp_path):
    output = tmp_path / "articles.jsonl"
    result = scrapy("export", "-s", f"ARCHIVE_DIR={full_crawl.archive}", "--format", "jsonl",
                    "--output", str(output))
    assert result.returncode == 0, result.stderr
    lines = output.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(site.articles)
    records = [json.loads(line) for line in lines]
    assert {r["canonical_url"] for r in records} == {r["url"] for r in records}
    assert "Lam Hồng" in output.read_text(encoding="utf-8")


def test_export_without_a_store_says_where_it_looked(tmp_path):
    result = scrapy("export", "-s", f"ARCHIVE_DIR={tmp_path}", "--output", str(tmp_path / "x"))
    assert result.returncode == 2
    assert str(tmp_path / "articles.sqlite3") in result.stderr


def test_report_describes_the_archive(full_crawl, site):
    result = scrapy("report", "-s", f"ARCHIVE_DIR={full_crawl.archive}")
    assert result.returncode == 0, result.stderr
    assert f"baonamdinh: {len(site.articles)} articles" in result.stdout
    assert "Crawl summary: baonamdinh (finished): complete" in result.stdout
    assert re.search(r"  baonamdinh-\d{8}T\d{6}Z: complete, exit code 0", result.stdout)


def test_since_until_bound_the_crawl(replica, site, tmp_path):
    run = run_crawl(replica.origin, tmp_path / "feb", "since=2020-02-01", "until=2020-02-29",
                    ARCHIVE_IMAGES="False")
    assert run.returncode == 0, run.log[-3000:]
    expected = {a.path for a in site.articles if a.published_iso.startswith("2020-02")}
    with ArticleStore(run.db) as store:
        got = {urlsplit(r["url"]).path for r in store.iter_articles()}
    assert expected and got == expected


def test_bad_since_argument_is_refused_with_the_reason(replica, tmp_path):
    run = run_crawl(replica.origin, tmp_path / "bad", "since=12/02/2020")
    assert run.returncode != 0
    assert "since='12/02/2020': expected a date as YYYY-MM-DD" in run.log


def test_progress_lines_report_rates_during_the_crawl(full_crawl):
    lines = [line for line in full_crawl.log.splitlines() if "Progress:" in line]
    assert lines, "no progress line logged"
    assert re.search(r"\d+ pages \(\d+\.\d/s\), \d+ articles stored \(\d+\.\d/s\)", lines[-1])


def test_requests_carry_the_honest_user_agent(full_crawl):
    with open(full_crawl.warc_files[0], "rb") as handle:
        agents = {
            record.http_headers.get_header("User-Agent")
            for record in ArchiveIterator(handle)
            if record.rec_type == "request"
        }
    # A loopback crawl needs no contact (crawler/extensions/contact.py).
    assert agents == {"provincial-news-archiver/0.1 (news archiving for research)"}


def test_metadata_records_tie_each_article_to_its_response(full_crawl, stored):
    by_response: dict[str, dict] = {}
    for path in full_crawl.warc_files:
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "metadata":
                    headers = record.rec_headers
                    by_response[headers.get_header("WARC-Concurrent-To")] = {
                        "uri": headers.get_header("WARC-Target-URI"),
                        "text": record.content_stream().read().decode("utf-8"),
                    }
    for article in stored.values():
        metadata = by_response[article["warc"]["record_id"]]
        assert metadata["uri"] == article["url"]
        assert f"article-id: {article['canonical_url']}" in metadata["text"]
        for image in article["images"]:
            assert f"outlink: {image['src']}" in metadata["text"]
