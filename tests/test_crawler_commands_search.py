"""``scrapy search`` and the export filters on a real crawl of the replica portal: queries
typed without diacritics (đ included) and phrases find the articles the replica published."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pyarrow.parquet as pq
import pytest

from storage.articles import ArticleStore
from tests.conftest import scrapy


def folded_words(text: str) -> list[str]:
    """The words of ``text`` as a person typing without diacritics writes them."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return re.findall(r"\w+", text.lower())


def contains(words: list[str], phrase: list[str]) -> bool:
    return any(words[i:i + len(phrase)] == phrase for i in range(len(words) - len(phrase) + 1))


@pytest.fixture(scope="module")
def unique_title(site):
    """An article with a đ in its title that no other article's text repeats."""
    texts = {article.id: folded_words(" ".join([article.title, article.lead,
                                                *article.paragraphs]))
             for article in site.articles}
    for article in site.articles:
        words = folded_words(article.title)
        if "đ" in article.title.lower() and not any(
                contains(other, words) for key, other in texts.items() if key != article.id):
            return article
    pytest.fail("no article with a title of its own and a đ in it")


def search(full_crawl, *args: str):
    return scrapy("search", *args, "-s", f"ARCHIVE_DIR={full_crawl.archive}")


def hit_urls(stdout: str) -> list[str]:
    return re.findall(r"^    (http\S+)$", stdout, flags=re.M)


@pytest.fixture(scope="module")
def crawled_store(full_crawl):
    with ArticleStore(full_crawl.db, readonly=True) as store:
        yield store


def test_a_title_typed_without_diacritics_finds_its_article_first(crawled_store, replica,
                                                                  unique_title):
    plain = " ".join(folded_words(unique_title.title))
    assert plain != unique_title.title.lower()
    # Words, a phrase, and the headline as printed (quoted: it holds a colon and brackets).
    for query in (plain, f'"{plain}"', f'"{unique_title.title}"'):
        hits = crawled_store.search(query)
        assert hits[0].url == unique_title.url(replica.origin), query
    assert len(crawled_store.search(f'"{plain}"')) == 1


def test_the_command_prints_date_title_snippet_and_url(full_crawl, replica, unique_title):
    plain = " ".join(folded_words(unique_title.title))
    result = search(full_crawl, f'"{plain}"')
    assert result.returncode == 0, result.stderr
    assert hit_urls(result.stdout) == [unique_title.url(replica.origin)]
    assert f"{unique_title.published_iso}  baonamdinh  {unique_title.title}" in result.stdout
    assert "[" in result.stdout.splitlines()[1]  # the snippet marks what matched
    assert result.stdout.rstrip().endswith(f"1 hit for '\"{plain}\"'")


def test_a_phrase_from_the_body_finds_the_articles_that_contain_it(crawled_store, replica,
                                                                   site):
    article = site.articles[7]
    phrase = folded_words(article.paragraphs[1])[:6]
    expected = {other.url(replica.origin) for other in site.articles if contains(
        folded_words(" ".join([other.title, other.lead, *other.paragraphs])), phrase)}
    hits = crawled_store.search('"' + " ".join(phrase) + '"', limit=500)
    assert {hit.url for hit in hits} == expected
    assert article.url(replica.origin) in expected


def test_prefix_dates_and_limit(crawled_store, site):
    month = sorted(site.months())[3]
    hits = crawled_store.search("thanh*", since=f"{month}-01", until=f"{month}-28", limit=3)
    assert 1 <= len(hits) <= 3
    assert all(hit.published.startswith(month) for hit in hits)


def test_a_query_fts5_cannot_read_is_one_line_and_exit_2(full_crawl):
    result = search(full_crawl, "COVID-19")
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("scrapy search: cannot read the query 'COVID-19'")


def test_export_filters_by_query_section_and_fields(full_crawl, replica, site, unique_title,
                                                    tmp_path):
    archive = f"ARCHIVE_DIR={full_crawl.archive}"
    plain = " ".join(folded_words(unique_title.title))
    output = tmp_path / "found" / "found.parquet"
    result = scrapy("export", "-s", archive, "--format", "parquet", "--output", str(output),
                    "--query", f'"{plain}"', "--fields", "url,title,published")
    assert result.returncode == 0, result.stderr
    table = pq.read_table(output)
    assert table.column_names == ["url", "title", "published", "published_local"]
    assert table.to_pylist()[0]["url"] == unique_title.url(replica.origin)
    assert table.to_pylist()[0]["published_local"] == unique_title.published_iso

    section = site.articles[0].section
    in_section = [article for article in site.articles if article.section == section]
    output = tmp_path / "section" / "section.jsonl"
    result = scrapy("export", "-s", archive, "--output", str(output), "--section", section.name)
    assert result.returncode == 0, result.stderr
    assert f"Exported {len(in_section)} articles" in result.stdout
    card = (output.parent / "README.md").read_text(encoding="utf-8")
    per_year = Counter(article.published.year for article in in_section)
    years = sorted(per_year)
    assert ("| baonamdinh | " + " | ".join(str(per_year[year]) for year in years)
            + f" | {len(in_section)} |") in card

    bad = scrapy("export", "-s", archive, "--output", str(tmp_path / "x.jsonl"),
                 "--query", '"oops')
    assert bad.returncode == 2 and "--query: cannot read the query" in bad.stderr
    assert not (tmp_path / "x.jsonl").exists()
