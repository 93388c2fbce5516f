"""Publication dates on the generic path: every source the field knows, and no invented offset.

Pages no site profile covers are read by `extract_article`'s generic path. Each case here is a
shape real pages use (issue 14 lists where they came from); the record must carry the page's own
date, with the page's own offset or none at all, and say where the date came from.
"""

from __future__ import annotations

import pytest

from crawler.parsing import extract_article
from crawler.parsing.dates import parse_vietnamese_datetime


def _page(head: str = "", body: str = "", lang: str | None = "en") -> str:
    lang_attr = f' lang="{lang}"' if lang else ""
    article = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 6 + "</p>"
    return (
        f"<html{lang_attr}><head><title>A headline</title>{head}</head><body>"
        f"<article><h1>A headline about something</h1>{body}{article}</article></body></html>"
    )


def _published(html: str, url: str = "https://example.org/news/a-headline") -> dict:
    record = extract_article(html, url)
    return {
        "published": record["published"],
        "source": record["published_source"],
        "zone": record["published_zone_source"],
    }


@pytest.mark.parametrize(("line", "lang", "expected"), [
    ("9 oktober 2020", "nl", "2020-10-09"),
    ("January 18, 2020", "en", "2020-01-18"),
    ("15 de Abril de 2020", "pt", "2020-04-15"),
    ("ngày 3 tháng 3 năm 2024", "vi", "2024-03-03"),
    ("Dienstag, 29. Januar 2019", "de", "2019-01-29"),
    ("Publié le 29 juin 2019", "fr", "2019-06-29"),
    ("24 сентября 2018", "ru", "2018-09-24"),
])
def test_a_visible_date_with_a_month_name_and_no_time_is_the_publication_date(
    line: str, lang: str, expected: str
) -> None:
    html = _page(body=f'<p class="meta">{line}</p>', lang=lang)
    assert _published(html) == {"published": expected, "source": "visible", "zone": None}


def test_a_visible_date_and_time_in_an_element_without_a_date_class_is_read() -> None:
    html = _page(body="<div><span>Thứ Hai, 12/8/2024, 07:30</span></div>", lang="vi")
    result = _published(html, "https://baolaocai.vn/tin-tuc/bai-viet-123.html")
    assert result == {"published": "2024-08-12T07:30:00+07:00", "source": "visible",
                      "zone": "vietnam"}


def test_a_weekday_in_words_before_the_date_is_read_without_a_datetime_attribute() -> None:
    html = _page(body='<div class="post-info">Thứ Tư, 12/02/2020 - 19:29</div>', lang="vi")
    assert _published(html, "https://baocantho.com.vn/a-123.html")["published"] == (
        "2020-02-12T19:29:00+07:00"
    )


@pytest.mark.parametrize("name", [
    "date", "DC.date", "DCTERMS.date", "prism.publicationDate", "og:article:published_time",
    "sw-pubdate", "uploadDate", "dc.date.issued",
])
def test_publication_date_meta_names(name: str) -> None:
    attribute = "property" if name.startswith("og:") else "name"
    html = _page(head=f'<meta {attribute}="{name}" content="2020-04-28T10:30:00+02:00">')
    assert _published(html) == {"published": "2020-04-28T10:30:00+02:00", "source": "meta",
                                "zone": "page"}


def test_a_date_in_the_og_image_path_is_read_when_the_page_has_no_other() -> None:
    html = _page(head='<meta property="og:image" content="https://cdn.example.org/2020/04/28/x.jpg">')
    assert _published(html) == {"published": "2020-04-28", "source": "image-url", "zone": None}


def test_a_compact_date_in_the_url_is_read() -> None:
    result = _published(_page(), "https://example.org/news/20200428/a-headline.html")
    assert result == {"published": "2020-04-28", "source": "url", "zone": None}


def test_json_ld_with_compact_iso_dates_is_read() -> None:
    script = ('<script type="application/ld+json">{"@type": "NewsArticle", '
              '"datePublished": "20201123T11:02:35Z"}</script>')
    assert _published(_page(head=script)) == {
        "published": "2020-11-23T11:02:35+00:00", "source": "json-ld", "zone": "page"}


def test_json_ld_that_is_not_strictly_valid_json_still_gives_its_date() -> None:
    script = ('<script type="application/ld+json">{"@type": "NewsArticle",\n'
              '"headline": "A "quoted" word",\n"datePublished": "2020-11-23T11:02:35+01:00",}'
              '</script>')
    assert _published(_page(head=script)) == {
        "published": "2020-11-23T11:02:35+01:00", "source": "json-ld", "zone": "page"}


def test_the_pages_local_date_wins_over_a_utc_timestamp_of_the_same_moment() -> None:
    html = _page(
        head='<meta property="article:published_time" content="2019-11-19T02:24:00Z">',
        body='<div class="byline">By A. Writer Nov 18, 2019 at 9:24 pm</div>',
    )
    assert _published(html) == {"published": "2019-11-18T21:24:00-05:00", "source": "visible",
                                "zone": "page"}


def test_a_slash_date_on_an_english_page_is_month_first() -> None:
    html = _page(body='<span class="posted">11/8/2023 10:46 PM</span>', lang="en-US")
    assert _published(html) == {"published": "2023-11-08T22:46:00", "source": "visible",
                                "zone": "none"}


def test_a_solar_hijri_date_is_refused_not_misread() -> None:
    html = _page(body='<span class="date">۱۳۹۹/۰۲/۲۱</span>', lang="fa")
    assert _published(html, "https://example.ir/news/1")["published"] is None


def test_a_forum_clock_is_not_a_publication_date() -> None:
    html = _page(body='<div class="time">Aktuelle Zeit: Di 19. Nov 2019, 10:31</div>', lang="de")
    assert _published(html, "https://forum.example.de/viewtopic.php?t=1")["published"] is None


def test_a_time_without_offset_outside_vietnam_keeps_local_time_without_offset() -> None:
    html = _page(head='<meta property="article:published_time" content="2019-06-20T14:39:54">',
                 lang="de")
    result = _published(html, "https://www.example.de/artikel-1.html")
    assert result == {"published": "2019-06-20T14:39:54", "source": "meta", "zone": "none"}


@pytest.mark.parametrize(("url", "lang"), [
    ("https://baolaocai.vn/a-1.html", None),
    ("https://example.com/a-1.html", "vi"),
])
def test_a_time_without_offset_on_a_vietnamese_page_is_read_in_vietnam(url, lang) -> None:
    html = _page(head='<meta property="article:published_time" content="2026-03-07T00:01:00">',
                 lang=lang)
    assert _published(html, url) == {"published": "2026-03-07T00:01:00+07:00", "source": "meta",
                                     "zone": "vietnam"}


def test_the_date_parser_keeps_local_time_naive_without_a_zone() -> None:
    parsed = parse_vietnamese_datetime("12/02/2020 19:29", None)
    assert parsed is not None and parsed.iso() == "2020-02-12T19:29:00"
    assert parsed.value.tzinfo is None


def test_the_date_parser_refuses_years_of_other_calendars() -> None:
    assert parse_vietnamese_datetime("۱۳۹۹/۰۲/۲۱") is None
    assert parse_vietnamese_datetime("1399/02/21 10:00") is None
