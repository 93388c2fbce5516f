"""``scrapy browse``: a real Datasette server on loopback, driven by a real headless Chromium
through a search, facets and a CSV download, each checked against the store; the canned queries
and the metadata read back from the same server.

Chromium and its driver are Debian's (``chromium``, ``chromium-driver``: ``make install`` puts them
there as root, as CI runs); without them the browser tests are skipped, except on CI where that
is a failure.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import unicodedata
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from storage.articles import ArticleStore
from storage.browse import FTS_TABLE, has_table
from tests.conftest import PROJECT_ROOT, scrapy

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SEARCH = "nong thon moi"  # no diacritics: finds "nông thôn mới"


def folded_words(text: str | None) -> set[str]:
    """The words of ``text`` without case and diacritics (đ is a letter of its own)."""
    decomposed = unicodedata.normalize("NFD", (text or "").lower().replace("đ", "d"))
    return set(re.findall(r"\w+", "".join(c for c in decomposed if not unicodedata.combining(c))))


# Articles whose dates disagree, added to the crawled store: (URL path, fields, reason expected).
DISAGREEING = [
    ("/channel/5086/202001/ban-tin-1/", {"published": "2020-03-02T08:00:00+07:00"},
     "URL month is another month"),
    ("/2020/01/05/ban-tin-2/", {"published": "2020-01-06T00:30:00+07:00"},
     "URL date is another day"),
    ("/ban-tin-3/", {"published": "2020-01-06T08:00:00+07:00",
                     "modified": "2020-01-05T08:00:00+07:00"}, "modified before published"),
    ("/ban-tin-4/", {"published": "2020-01-07T08:00:00+07:00", "dates_disagree": True},
     "the page's date sources disagree"),
]


@pytest.fixture(scope="module")
def store(full_crawl, tmp_path_factory) -> Path:
    """A copy of the replica crawl's store, plus articles whose dates disagree, a second version
    of one article, and the full-text index."""
    archive = tmp_path_factory.mktemp("browse")
    db = archive / "articles.sqlite3"
    source = sqlite3.connect(full_crawl.db)
    with sqlite3.connect(db) as target:
        source.backup(target)
    source.close()
    target.close()
    with ArticleStore(db) as articles:
        for path, fields, _ in DISAGREEING:
            articles.upsert({"url": "http://example.test" + path, "site": "example",
                             "title": path, "body": "text", "section": "Tin tức",
                             "content_hash": f"sha256:{path}", **fields})
        edited = [*articles.iter_articles(site="baonamdinh")][0]
        articles.upsert({**edited, "body": edited["body"] + "\n\nĐính chính.",
                         "content_hash": "sha256:edited", "fetched": "2030-01-01T00:00:00Z"})
    assert has_table(db, FTS_TABLE)  # the store keeps its own full-text index
    return db


@pytest.fixture(scope="module")
def server(store):
    """``scrapy browse --port 0`` on the store: its base URL (``http://127.0.0.1:PORT``)."""
    output = store.parent / "browse.out"
    with output.open("w") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "browse", "-s", f"ARCHIVE_DIR={store.parent}",
             "--port", "0"], cwd=PROJECT_ROOT, stdout=stdout, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (match := re.search(r"http://127\.0\.0\.1:\d+", output.read_text())):
            assert process.poll() is None and time.monotonic() < deadline, output.read_text()
            time.sleep(0.1)
        yield match.group(0)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    """Headless Chromium (Debian's) driven through its chromedriver."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are missing: `make install` as root")
        pytest.skip("chromium and chromium-driver are not installed (apt-get install them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
    })
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def shown_rows(browser) -> int:
    """The row count the table page shows (``240 rows where …``)."""
    from selenium.webdriver.common.by import By

    heading = browser.find_element(By.CSS_SELECTOR, "h3").text
    match = re.match(r"([\d,]+) rows?\b", heading)
    assert match, heading
    return int(match.group(1).replace(",", ""))


def stored(db: Path, where: str = "1", params: tuple = ()) -> list[sqlite3.Row]:
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(f"SELECT * FROM articles WHERE {where}", params).fetchall()
    finally:
        connection.close()


def test_browser_facets_then_downloads_the_filtered_rows_as_csv(browser, server, store,
                                                                 downloads):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/articles/article_list")
    assert "Articles" in browser.title or "article_list" in browser.title
    assert shown_rows(browser) == len(stored(store))
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "Rights statement to fill in" in page  # the licence placeholder
    assert "Publication month (YYYY-MM)" in page  # the fields' descriptions

    browser.find_element(By.XPATH, "//div[@id='facet-section']//a[text()='Kinh tế']").click()
    WebDriverWait(browser, 30).until(lambda b: "section=" in b.current_url)
    assert shown_rows(browser) == len(stored(store, "section = ?", ("Kinh tế",)))
    browser.find_element(By.XPATH, "//div[@id='facet-month']//a[text()='2020-01']").click()
    WebDriverWait(browser, 30).until(lambda b: "month=" in b.current_url)
    expected = stored(store, "section = ? AND published LIKE '2020-01%'", ("Kinh tế",))
    assert shown_rows(browser) == len(expected) > 0

    export = browser.find_element(By.ID, "export")
    export.find_element(By.NAME, "_dl").click()
    # "stream all rows" is offered when the rows fill more than one page.
    for stream in export.find_elements(By.NAME, "_stream"):
        stream.click()
    export.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    deadline = time.monotonic() + 30
    while not (files := [p for p in downloads.glob("*.csv")]):
        assert time.monotonic() < deadline, list(downloads.iterdir())
        time.sleep(0.1)
    with files[0].open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["canonical_url"] for row in rows} == {row["canonical_url"] for row in expected}
    by_url = {row["canonical_url"]: row for row in expected}
    for row in rows:  # whole texts, not the page's truncated cells
        assert row["body"] == by_url[row["canonical_url"]]["body"]
        assert json.loads(row["authors"]) == json.loads(by_url[row["canonical_url"]]["authors"])


def test_browser_search_without_diacritics_finds_the_articles(browser, server, store):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/articles/article_list")
    box = browser.find_element(By.NAME, "_search")
    box.send_keys(SEARCH, Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda b: "_search=" in b.current_url)
    words = set(SEARCH.split())
    expected = [row for row in stored(store)
                if words <= folded_words(" ".join(filter(None, (row["title"], row["lead"],
                                                                row["body"]))))]
    assert shown_rows(browser) == len(expected) > 0
    titles = {cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "td.col-title")}
    assert titles and titles <= {row["title"] for row in expected}


def get_json(url: str) -> dict | list:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def test_canned_query_finds_every_kind_of_date_disagreement(server, store):
    rows = get_json(server + "/articles/dates_disagree.json?site=&_shape=array")
    found = {row["url"].removeprefix("http://example.test"): row["disagreement"] for row in rows}
    # The replica's own pages agree with their URLs: only the added articles are listed.
    assert found == {path: reason for path, _, reason in DISAGREEING}


def test_canned_search_folds_dj_both_ways(server, store):
    """Datasette's search box passes đ through; the canned search folds it like the index."""
    expected = {row["canonical_url"] for row in stored(store)
                if {"dai", "hoi"} <= folded_words(" ".join(
                    filter(None, (row["title"], row["lead"], row["body"]))))}
    assert expected
    for words in ("Đại hội", "dai hoi"):
        query = urllib.parse.urlencode({"q": words, "site": "", "_shape": "array"})
        rows = get_json(server + f"/articles/search.json?{query}")
        assert {row["canonical_url"] for row in rows} == expected, words


def test_canned_queries_versions_and_months(server, store):
    edited = stored(store, "version = 2")
    assert len(edited) == 1
    query = urllib.parse.urlencode({"url": edited[0]["url"], "_shape": "array"})
    versions = get_json(server + f"/articles/article_versions.json?{query}")
    assert [row["version"] for row in versions] == [1, 2]
    assert versions[1]["body"] == edited[0]["body"] and versions[0]["warc_file"]

    months = get_json(server + "/articles/articles_per_month.json?site=baonamdinh&_shape=array")
    expected: dict[str, int] = {}
    for row in stored(store, "site = 'baonamdinh'"):
        expected[row["published"][:7]] = expected.get(row["published"][:7], 0) + 1
    assert {row["month"]: row["articles"] for row in months} == expected


def test_metadata_describes_fields_licence_and_facets(server):
    metadata = get_json(server + "/-/metadata.json")
    assert "fill in" in metadata["license"]
    table = metadata["databases"]["articles"]["tables"]["article_list"]
    assert {"array": "authors"} in table["facets"] and "month" in table["facets"]
    assert table["fts_table"] == FTS_TABLE
    assert "offset" in table["columns"]["published"]
    facets = get_json(server + "/articles/article_list.json?_size=0")["facet_results"]
    assert {"site", "section", "authors", "month"} <= set(facets)


def test_browse_without_a_store_is_one_line(tmp_path):
    result = scrapy("browse", "-s", f"ARCHIVE_DIR={tmp_path}", "--port", "0", timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"scrapy browse: no article store at "
                                     f"{tmp_path / 'articles.sqlite3'}: crawl first (or set "
                                     "ARTICLES_DB)")


def test_browse_on_a_port_in_use_is_one_line(server, store):
    port = server.rsplit(":", 1)[1]
    result = scrapy("browse", "-s", f"ARCHIVE_DIR={store.parent}", "--port", port, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(f"scrapy browse: cannot listen on 127.0.0.1:{port}: ")
    assert len(result.stderr.strip().splitlines()) == 1



def test_metadata_file_is_laid_over_the_generated_metadata(store, tmp_path):
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({"license": "CC BY 4.0", "databases": {"articles": {
        "tables": {"article_list": {"title": "Bài báo"}}}}}), encoding="utf-8")
    result = scrapy("browse", "-s", f"ARCHIVE_DIR={store.parent}", "--metadata", str(mine),
                    "--print-metadata", timeout=60)
    assert result.returncode == 0, result.stderr
    metadata = json.loads(result.stdout)
    assert metadata["license"] == "CC BY 4.0"
    table = metadata["databases"]["articles"]["tables"]["article_list"]
    assert table["title"] == "Bài báo" and "month" in table["facets"]  # the rest kept
