"""``scrapy schedule add|list|remove`` on the command line: the schedule as data in ARCHIVE_DIR."""

from __future__ import annotations

import json

from tests.conftest import scrapy


def test_entries_are_added_listed_and_removed_and_bad_input_is_one_line(tmp_path):
    archive = ["-s", f"ARCHIVE_DIR={tmp_path}"]
    added = scrapy("schedule", "add", "portal", "--args", "url=https://example-portal.vn/",
                   "--every", "weekly sun 03:00", "--setting", "CLOSESPIDER_TIMEOUT=600",
                   *archive)
    assert added.returncode == 0, added.stderr
    entries = json.loads((tmp_path / "schedule" / "entries.json").read_text())["entries"]
    assert [(e["id"], e["spider"], e["args"], e["settings"], e["host"]) for e in entries] == [
        ("portal-example-portal.vn", "portal", {"url": "https://example-portal.vn/"},
         {"CLOSESPIDER_TIMEOUT": "600"}, "example-portal.vn")]
    bad = scrapy("schedule", "add", "baonamdinh", "--every", "nightly", *archive)
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("scrapy schedule: --every 'nightly': expected")
    removed = scrapy("schedule", "remove", "portal-example-portal.vn", *archive)
    assert removed.returncode == 0 and removed.stdout.startswith("Removed portal-example")
    assert json.loads((tmp_path / "schedule" / "entries.json").read_text())["entries"] == []
