"""A site profile's selectors are checked when it loads, in both engines that will run them."""

from __future__ import annotations

import pytest

from crawler.parsing.profile import SiteProfile
from crawler.sites import load_profile, site_ids


def _profile(**fields) -> SiteProfile:
    return SiteProfile(site_id="example", name="Example", domains=("example.vn",),
                       base_url="https://example.vn/", **fields)


@pytest.mark.parametrize(("field", "css", "engine"), [
    ("title", "h1:contains('Tin')", "Lexbor"),  # cssselect's extension
    ("body", "div:lexbor-contains('x')", "cssselect"),  # Lexbor's extension
    ("listing_article_links", "a[href", "cssselect"),
    ("remove", ".share >", "cssselect"),
])
def test_a_selector_an_engine_cannot_read_fails_when_the_profile_loads(field, css, engine):
    with pytest.raises(ValueError) as raised:
        _profile(**{field: (css,)})
    message = str(raised.value)
    assert "'example'" in message and field in message and repr(css) in message
    assert engine in message


@pytest.mark.parametrize("css", ["", "   "])
def test_an_empty_selector_fails_when_the_profile_loads(css):
    with pytest.raises(ValueError, match="empty CSS selector"):
        _profile(lead=(css,))


def test_selectors_both_engines_read_are_accepted():
    profile = _profile(
        title=("h1.detail-title", "article > h1"),
        body=("#contentdetail", "div[data-role=content]"),
        tags=(".tags a:nth-child(n+1)",), remove=(".related, .share",),
    )
    assert [s.css for s in profile.selectors["title"]] == ["h1.detail-title", "article > h1"]


@pytest.mark.parametrize("site_id", site_ids())
def test_every_shipped_profile_loads(site_id):
    profile = load_profile(site_id)
    assert profile.selectors["body"], f"{site_id} has no body selector"
