"""Item pipelines built from a crawler: validation drops by reason, the store upserts."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import Article
from crawler.parsing.article import content_hash
from crawler.pipelines.store import ArticleStorePipeline
from crawler.pipelines.validate import ValidateArticlePipeline
from storage.articles import ArticleStore


def article(**fields) -> Article:
    record = {"url": "https://baonamdinh.vn/channel/1/202002/a-1/", "title": "Tiêu đề",
              "body": "Nội dung.", "authors": [], "tags": [], "images": []}
    record.update(fields)
    record["content_hash"] = content_hash(record)
    return Article(**record)


def test_article_without_body_is_dropped_and_counted_by_reason(caplog):
    crawler = get_crawler(settings_dict={"ARTICLES_REQUIRED_FIELDS": ["title", "body"]})
    pipeline = build_from_crawler(ValidateArticlePipeline, crawler)
    with pytest.raises(DropItem, match="a-1"):
        pipeline.process_item(article(body=None))
    assert crawler.stats.get_value("articles/dropped/no_body") == 1
    assert "https://baonamdinh.vn/channel/1/202002/a-1/" in caplog.text
    assert pipeline.process_item(article())["title"] == "Tiêu đề"


def test_store_pipeline_writes_versions_and_counts(tmp_path):
    crawler = get_crawler(settings_dict={"ARCHIVE_DIR": str(tmp_path)})
    pipeline = build_from_crawler(ArticleStorePipeline, crawler)
    pipeline.open_spider()
    assert pipeline.process_item(article())["version"] == 1
    assert pipeline.process_item(article())["version"] == 1
    assert pipeline.process_item(article(body="Nội dung mới."))["version"] == 2
    pipeline.close_spider()
    stats = crawler.stats
    assert (stats.get_value("articles/new"), stats.get_value("articles/unchanged"),
            stats.get_value("articles/updated")) == (1, 1, 1)
    with ArticleStore(tmp_path / "articles.sqlite3") as store:
        assert store.count() == 1


def test_store_pipeline_keeps_a_colliding_page_under_its_own_url(tmp_path, caplog):
    crawler = get_crawler(settings_dict={"ARCHIVE_DIR": str(tmp_path)})
    pipeline = build_from_crawler(ArticleStorePipeline, crawler)
    pipeline.open_spider()
    first = article()
    pipeline.process_item(first)
    other = article(url="https://baonamdinh.vn/channel/1/202002/b-2/",
                    canonical_url=first["url"], title="Bài khác", body="Nội dung khác.")
    stored = pipeline.process_item(other)
    pipeline.close_spider()
    assert (stored["canonical_url"], stored["canonical_rejected"]) == (other["url"], "collision")
    assert stored["canonical_claimed"] == first["url"]
    assert crawler.stats.get_value("articles/canonical_rejected/collision") == 1
    assert f"{other['url']} names {first['url']}" in caplog.text
    with ArticleStore(tmp_path / "articles.sqlite3") as store:
        assert store.count() == 2
