"""The coverage page charts failures by reason, from the store and from the crawl reports."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy
from matplotlib.image import imread
from scrapy.settings import Settings

from crawler.commands.report import write_coverage_report
from crawler.paths import ArchivePaths
from storage.articles import ArticleStore


def test_failures_by_reason_are_charted_and_listed(tmp_path, capsys):
    paths = ArchivePaths.from_settings(Settings({"ARCHIVE_DIR": str(tmp_path)}))
    with ArticleStore(paths.articles_db) as store:
        store.upsert({"url": "http://example.test/1/", "site": "example", "title": "T",
                      "published": "2020-01-02", "content_hash": "sha256:1"})
        for number in range(3):
            store.record_failure(f"http://example.test/f{number}/", "example", "http_503", None,
                                 datetime(2020, 4, 1, tzinfo=timezone.utc), 30)
    for name, failed in (("a", {"http_503": 3, "timeout": 1}), ("b", {"http_503": 2})):
        (paths.reports_dir / name).mkdir(parents=True)
        (paths.reports_dir / name / "summary.json").write_text(json.dumps(
            {"failed_by_reason": failed, "dropped_by_reason": {"no_body": 4}}))
    (paths.reports_dir / "killed").mkdir()  # a crawl that never wrote its summary

    write_coverage_report(paths, tmp_path / "out")

    numbers = json.loads((tmp_path / "out" / "coverage.json").read_text())
    assert numbers["failures"] == {
        "failed_articles": {"example": {"http_503": 3}},
        "crawl_reports": {"crawls": 2, "failed_by_reason": {"http_503": 5, "timeout": 1},
                          "dropped_by_reason": {"no_body": 8}},
    }
    assert numpy.var(imread(tmp_path / "out" / numbers["charts"]["failures"])[..., :3]) > 0.01
    page = (tmp_path / "out" / "coverage.html").read_text()
    assert "<td>http_503</td><td>failed in crawls</td><td>5</td>" in page
    assert "coverage.html (5 files)" in capsys.readouterr().out
