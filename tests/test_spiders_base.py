"""The portal spider's URL logic: mirrors, article patterns, date bounds."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from spiders.baonamdinh import BaoNamDinhSpider
from tests.replica.pages import render_article

ARTICLE = "/channel/5085/202002/khoi-thi-dua-2536418/"


def test_defaults_to_the_live_site():
    spider = BaoNamDinhSpider()
    assert spider.site_url("/sitemap.xml") == "https://baonamdinh.vn/sitemap.xml"
    assert spider.allowed_domains == ["baonamdinh.vn"]


def test_base_url_moves_the_sites_own_links_to_the_mirror():
    spider = BaoNamDinhSpider(base_url="http://127.0.0.1:8765")
    assert spider.rewrite("https://baonamdinh.vn" + ARTICLE + "#top") == (
        "http://127.0.0.1:8765" + ARTICLE
    )
    assert spider.rewrite("https://www.baonamdinh.vn/rss/home.rss") == (
        "http://127.0.0.1:8765/rss/home.rss"
    )
    # Other sites stay where they are (and the offsite filter keeps them out).
    assert spider.rewrite("https://facebook.com/share") == "https://facebook.com/share"
    assert "127.0.0.1" in spider.allowed_domains


def test_article_pattern_accepts_articles_only():
    spider = BaoNamDinhSpider()
    assert spider.is_article_url("https://baonamdinh.vn" + ARTICLE)
    for path in ("/", "/channel/5085/", "/channel/5085/page/2/", "/tag/nong-thon-moi/",
                 "/uploads/2020/02/12/1.jpg"):
        assert not spider.is_article_url("https://baonamdinh.vn" + path), path


@pytest.mark.parametrize(
    ("since", "until", "in_range"),
    [
        ("2020-02-12", None, True),  # same month: may hold the day, fetch it
        ("2020-03-01", None, False),
        (None, "2020-01-31", False),
        (None, "2020-02-01", True),
        ("2020-01-01", "2020-02-29", True),
    ],
)
def test_url_month_bounds_skip_articles_without_fetching(since, until, in_range):
    spider = BaoNamDinhSpider(since=since, until=until)
    assert spider.url_month_in_range("https://baonamdinh.vn" + ARTICLE) is in_range


def test_parsed_date_bounds_are_inclusive():
    spider = BaoNamDinhSpider(since="2020-02-12", until="2020-02-12")
    assert spider.published_in_range("2020-02-12T19:29:00+07:00")
    assert not spider.published_in_range("2020-02-13T00:00:00+07:00")
    assert spider.published_in_range(None)  # unknown dates are kept, never guessed out


def test_bad_dates_are_refused_with_the_argument_named():
    with pytest.raises(ValueError, match="since='12/02/2020'"):
        BaoNamDinhSpider(since="12/02/2020")
    with pytest.raises(ValueError, match="after"):
        BaoNamDinhSpider(since="2020-03-01", until="2020-02-01")


def test_profile_miss_is_counted_as_fallback_for_the_maintainer(site, caplog, tmp_path):
    article = site.articles[3]
    url = "https://baonamdinh.vn" + article.path
    # A redesign renamed the body container: the profile's selectors find no body.
    html = render_article(site, article, "https://baonamdinh.vn").replace(
        'class="detail-content" id="contentdetail"', 'class="article-main"')
    crawler = get_crawler(BaoNamDinhSpider, settings_dict={"ARCHIVE_IMAGES": False,
                                                          "ARCHIVE_DIR": str(tmp_path)})
    spider = BaoNamDinhSpider.from_crawler(crawler)
    response = HtmlResponse(url, body=html.encode(), encoding="utf-8", request=Request(url))
    items = list(spider.parse_article(response))
    assert items and items[0]["body"]
    assert crawler.stats.get_value("articles/fallback/baonamdinh") == 1
    assert url in caplog.text
