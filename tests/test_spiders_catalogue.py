"""The catalogue of portals with no profile (``spiders/catalogue.json``): data, listing, crawl."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from crawler.sites import site_ids
from spiders.catalogue import CATALOGUE_PATH, load_catalogue
from storage.articles import ArticleStore
from tests.conftest import LOOPBACK_SETTINGS, scrapy
from tests.replica.process import ReplicaProcess


def test_every_entry_names_its_paper_province_home_and_where_each_fact_was_found():
    data = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    ids = [entry["id"] for entry in data["portals"]]
    assert len(ids) == len(set(ids)) >= 60
    assert not set(ids) & set(site_ids()), "a profiled site belongs to its spider, not here"
    for entry in data["portals"]:
        assert re.fullmatch(r"[a-z0-9_.-]+", entry["id"])
        assert entry["name"] and entry["province"]
        assert urlsplit(entry["home"]).scheme in ("http", "https"), entry["id"]
        assert isinstance(entry["feeds"], list) and isinstance(entry["sitemaps"], list)
        assert entry["sources"] and all(
            {"fact", "where", "verified"} <= set(source) for source in entry["sources"])


def test_scrapy_list_shows_catalogued_portals_apart_from_profiled_sites():
    result = scrapy("list")
    assert result.returncode == 0, result.stderr
    spiders, _, catalogue = result.stdout.partition("\n\n")
    assert set(spiders.split()) == {*site_ids(), "portal"}
    assert "scrapy crawl portal -a site=ID" in catalogue
    assert "baohanam" in catalogue and "Báo Hà Nam (Hà Nam)" in catalogue


def test_a_catalogued_portal_is_crawled_from_its_home_url_on_a_mirror(tmp_path):
    entry = load_catalogue()["baohanam"]
    with ReplicaProcess(articles=20, layout="legacy-asp") as mirror:
        options = ["-a", "site=baohanam", "-a", f"base_url={mirror.origin}/",
                   "-s", f"ARCHIVE_DIR={tmp_path}"]
        for name, value in LOOPBACK_SETTINGS.items():
            options += ["-s", f"{name}={value}"]
        result = scrapy("crawl", "portal", *options)
        origins, origin = mirror.stats()["origins"], mirror.origin
    assert result.returncode == 0, result.stderr[-3000:]
    assert set(origins) == {origin}, "the real portal is never contacted"
    with ArticleStore(tmp_path / "articles.sqlite3") as store:
        records = list(store.iter_articles())
    assert len(records) == 20 and {record["site"] for record in records} == {"baohanam"}
    assert entry["name"] in (tmp_path / "portal" / "baohanam.json").read_text(encoding="utf-8")
