"""The crawl's stats collector counts as Scrapy's does, without a wrapper on every access."""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from crawler.stats import CrawlStatsCollector


def test_the_crawl_stats_count_as_scrapys_and_are_the_projects_collector():
    ours, scrapys = CrawlStatsCollector(get_crawler()), MemoryStatsCollector(get_crawler())
    for stats in (ours, scrapys):
        stats.inc_value("articles/stored")
        stats.inc_value("articles/stored", 2)
        stats.max_value("depth", 3)
        stats.min_value("first", 5)
        stats.set_value("crawl_runs/run_id", "abc")
    assert ours.get_stats() == scrapys.get_stats() == {
        "articles/stored": 3, "depth": 3, "first": 5, "crawl_runs/run_id": "abc"}
    assert get_project_settings()["STATS_CLASS"] == "crawler.stats.CrawlStatsCollector"
