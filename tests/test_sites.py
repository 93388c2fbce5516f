"""Every site profile against its saved pages: one test per page of every ``tests/sites/*`` folder.

A folder is named by its site id and holds saved pages with their headers and ``expected.json``
(see ``crawler/sitefixtures.py`` and ``docs/adding-a-site.md``). Articles: the profile's
selectors must find title and body themselves (no generic fallback), every expected field must
match exactly, and the body must hold the ``with`` snippets and none of the ``without`` ones.
Listings: the spider must find the expected article links and follow the expected next page.
Adding a site adds a folder, never test code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.parsing.article import extract_with_profile
from crawler.sitefixtures import load_expected, load_page, page_names, read_listing
from crawler.sites import load_profile, site_ids, spider_class

SITES = Path(__file__).parent / "sites"


def _cases(kind: str) -> list:
    cases = []
    for folder in sorted(path for path in SITES.iterdir() if path.is_dir()):
        for name in page_names(folder, kind):
            cases.append(pytest.param(folder, name, id=f"{folder.name}/{name}"))
    return cases


def test_every_site_module_has_a_fixture_folder_and_every_folder_a_site():
    folders = {path.name for path in SITES.iterdir() if path.is_dir()}
    assert folders == set(site_ids())
    for folder in folders:
        assert page_names(SITES / folder, "article"), f"tests/sites/{folder}: no saved article"
        assert page_names(SITES / folder, "listing"), f"tests/sites/{folder}: no saved listing"


def check_article(folder: Path, name: str, profile) -> None:
    """The checks of one saved article against its expected.json entry."""
    page = load_page(folder, name)
    expected = load_expected(folder)["articles"].get(name)
    assert expected is not None, f"{folder}/expected.json has no entry for {name}"
    record = extract_with_profile(page.body, page.url, profile, page.content_type)
    assert record["fallback"] == [], f"the profile's selectors missed {record['fallback']}"
    assert record["site"] == profile.site_id
    for field, value in expected["fields"].items():
        assert record[field] == value, field
    text = "\n\n".join(part for part in (record["lead"], record["body"]) if part)
    for snippet in expected.get("with", []):
        assert snippet in text, f"missing from the article: {snippet!r}"
    for snippet in expected.get("without", []):
        assert snippet not in (record["body"] or ""), f"furniture kept: {snippet!r}"


def check_listing(folder: Path, name: str, spider: type) -> None:
    """The checks of one saved listing page against its expected.json entry."""
    page = load_page(folder, name)
    expected = load_expected(folder)["listings"].get(name)
    assert expected is not None, f"{folder}/expected.json has no entry for {name}"
    articles, next_page = read_listing(spider, page)
    assert len(articles) == expected["article_links"]
    assert len(set(articles)) == len(articles), "an article requested twice"
    for url in expected["includes"]:
        assert url in articles, url
    assert next_page == expected["next_page"]


@pytest.mark.parametrize(("folder", "name"), _cases("article"))
def test_article(folder: Path, name: str):
    check_article(folder, name, load_profile(folder.name))


@pytest.mark.parametrize(("folder", "name"), _cases("listing"))
def test_listing(folder: Path, name: str):
    check_listing(folder, name, spider_class(folder.name))
