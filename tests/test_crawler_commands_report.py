"""``scrapy report --output DIR``: the coverage report of a crawl of the replica portal that lost a
month of one section (``--gap``) shows that hole, with numbers that match the portal and charts
that are real images."""

from __future__ import annotations

import json
from collections import Counter

import numpy
import pytest
from matplotlib.image import imread

from tests.conftest import run_crawl, scrapy
from tests.replica.content import build_site, leave_out
from tests.replica.process import ReplicaProcess

# Xã hội (5087) has 10 articles in 2019-12 and 7 in each month around it on the default replica.
GAP_SECTION, GAP_MONTH = 5087, "2019-12"


@pytest.fixture(scope="module")
def gapped_crawl(tmp_path_factory):
    """A crawl of the replica without Xã hội's articles of December 2019."""
    with ReplicaProcess(extra_args=["--gap", f"{GAP_SECTION}:{GAP_MONTH}"]) as replica:
        run = run_crawl(replica.origin, tmp_path_factory.mktemp("gapped"))
    assert run.returncode == 0, run.log[-4000:]
    return run


@pytest.fixture(scope="module")
def coverage_report(gapped_crawl, tmp_path_factory):
    output = tmp_path_factory.mktemp("coverage")
    result = scrapy("report", "-s", f"ARCHIVE_DIR={gapped_crawl.archive}", "--output", str(output))
    assert result.returncode == 0, result.stderr
    return output, result.stdout


def test_report_finds_the_month_the_portal_lost(coverage_report):
    output, stdout = coverage_report
    numbers = json.loads((output / "coverage.json").read_text(encoding="utf-8"))
    site = build_site()
    section = site.section_by_id(GAP_SECTION).name
    # Without the gap the month was full: the gap is the replica's, not a quiet month.
    assert sum(a.section.id == GAP_SECTION and a.month == GAP_MONTH for a in site.articles) >= 5
    served = leave_out(site, [(GAP_SECTION, GAP_MONTH)]).articles
    expected = Counter((a.section.name, a.month) for a in served)
    sections = numbers["sites"]["baonamdinh"]["sections"]
    assert {(name, month): count for name, months in sections.items()
            for month, count in months.items() if count} == dict(expected)
    assert numbers["articles"] == len(served)
    assert sections[section][GAP_MONTH] == 0
    assert numbers["gaps"] == [{"site": "baonamdinh", "section": section, "month": GAP_MONTH,
                                "before": expected[section, "2019-11"],
                                "after": expected[section, "2020-01"]}]
    assert f"gaps: baonamdinh {section} {GAP_MONTH}" in stdout
    page = (output / "coverage.html").read_text(encoding="utf-8")
    assert '<td class="gap">0</td>' in page and section in page


def test_report_charts_are_images_with_content(coverage_report):
    output, _ = coverage_report
    numbers = json.loads((output / "coverage.json").read_text(encoding="utf-8"))
    assert set(numbers["charts"]) == {"months/baonamdinh", "fill_rates"}  # no failure: no chart
    page = (output / "coverage.html").read_text(encoding="utf-8")
    for name in numbers["charts"].values():
        assert f'src="{name}"' in page
        pixels = imread(output / name)
        assert pixels.shape[0] > 200 and pixels.shape[1] > 400
        # Not blank: a one-colour image has no variance at all.
        assert numpy.var(pixels[..., :3]) > 0.01, name


def test_report_fill_rates_match_the_store(coverage_report, gapped_crawl):
    output, _ = coverage_report
    rates = json.loads((output / "coverage.json").read_text())["sites"]["baonamdinh"]["fill_rates"]
    served = leave_out(build_site(), [(GAP_SECTION, GAP_MONTH)]).articles
    assert rates["title"] == rates["body"] == rates["published"] == 1.0
    assert rates["modified"] == 0.0  # the replica's pages do not state it
    assert rates["authors"] == round(sum(bool(a.authors) for a in served) / len(served), 4)


def test_report_output_that_is_a_file_is_refused(gapped_crawl, tmp_path):
    target = tmp_path / "coverage.html"
    target.write_text("mine")
    result = scrapy("report", "-s", f"ARCHIVE_DIR={gapped_crawl.archive}", "--output", str(target))
    assert result.returncode == 2
    assert result.stderr.strip() == f"scrapy report: --output {target}: is a file; give a folder"
    assert target.read_text() == "mine"
