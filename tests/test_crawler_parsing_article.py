"""The article extractor on saved pages: replica layouts, charsets, the generic path, the CLI."""

from __future__ import annotations

import gzip
import json
import unicodedata

import pytest

from crawler.parsing import extract_article
from crawler.sites import UnknownSiteError
from tests.conftest import scrapy
from tests.replica.pages import render_article

ORIGIN = "https://baonamdinh.vn"


def page_bytes(site, article, encoding: str = "utf-8") -> bytes:
    return render_article(site, article, ORIGIN).encode(encoding)


def test_seed_page_gives_the_clean_record_of_the_readme(site):
    seed = site.seed_article
    record = extract_article(page_bytes(site, seed), ORIGIN + seed.path, site="baonamdinh")
    assert record["title"] == seed.title
    assert record["published"] == "2020-02-12T19:29:00+07:00"
    assert record["published_source"] == "selector"
    assert record["authors"] == ["Lam Hồng"]
    assert record["credit"] == "Tin, ảnh"
    assert record["lead"] == seed.lead
    assert record["body"] == "\n\n".join(seed.paragraphs)
    assert len(record["images"]) == 1
    assert record["images"][0]["caption"] == seed.images[0].caption
    assert record["images"][0]["src"] == ORIGIN + seed.images[0].src
    assert record["section"] == "Chính trị"
    assert record["canonical_url"] == ORIGIN + seed.path


def test_profile_is_found_by_domain_when_no_site_is_named(site):
    seed = site.seed_article
    record = extract_article(page_bytes(site, seed), ORIGIN + seed.path)
    assert record["site"] == "baonamdinh"
    assert record["authors"] == ["Lam Hồng"]


def test_every_replica_layout_variant_extracts_exactly(site):
    # Pure parsing, no crawl: every quirk the replica renders (strong sapo, plain byline, inline
    # ads, widget remains, repeated captions) must give the ground truth.
    for article in site.articles:
        record = extract_article(page_bytes(site, article), ORIGIN + article.path, "baonamdinh")
        got = (record["title"], record["lead"], record["body"], record["published"],
               record["authors"], record["credit"], record["tags"])
        expected = (article.title, article.lead, "\n\n".join(article.paragraphs),
                    article.published_iso, list(article.authors), article.credit,
                    list(article.tags))
        assert got == expected, article.path


def test_page_without_any_declared_charset_still_reads_right(site):
    article = next(a for a in site.articles if not a.layout.meta_charset)
    record = extract_article(page_bytes(site, article), ORIGIN + article.path, "baonamdinh")
    assert record["title"] == article.title


TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def to_windows_1258(text: str) -> bytes:
    """Encode as windows-1258 does: letters like ê/ơ precomposed, tone marks combining."""
    out = []
    for char in text:
        try:
            out.append(char.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
            tones = "".join(c for c in parts if c in TONE_MARKS)
            out.append((base + tones).encode("cp1258"))
    return b"".join(out)


def test_header_charset_decodes_a_windows_1258_page(site):
    article = site.seed_article
    html = render_article(site, article, ORIGIN).replace('<meta charset="utf-8">', "")
    record = extract_article(to_windows_1258(html), ORIGIN + article.path, "baonamdinh",
                             content_type="text/html; charset=windows-1258")
    assert record["title"] == article.title
    assert record["authors"] == ["Lam Hồng"]


def test_generic_path_reads_a_page_no_profile_covers():
    html = """<html lang="vi-VN"><head><meta property="og:title" content="Tiêu đề chung">
    <meta property="article:published_time" content="2024-08-12T07:30:00+07:00">
    <script type="application/ld+json">
      {"@type": "NewsArticle", "dateModified": "2024-08-12T09:00:00+07:00"}</script>
    </head><body><nav><a href="/">Trang chủ</a></nav>
    <article><h1>Tiêu đề chung</h1>
    <p>Đoạn thứ nhất của bài viết có đủ độ dài để được coi là nội dung chính của trang này.</p>
    <figure><img src="/a.jpg"><figcaption>Ảnh minh họa. Ảnh: Minh Thu</figcaption></figure>
    <p>Ảnh minh họa.</p>
    <p>Đoạn thứ hai cũng là nội dung bài viết, với nhiều chữ hơn để vượt ngưỡng tối thiểu.</p>
    <div class="share">Chia sẻ Facebook Zalo</div>
    <p>,</p><p>Minh Thu</p></article></body></html>"""
    record = extract_article(html.encode(), "https://example.vn/bai-viet-1.html")
    assert record["site"] is None
    assert record["title"] == "Tiêu đề chung"
    assert record["published"] == "2024-08-12T07:30:00+07:00"
    assert record["published_source"] == "meta"
    assert record["modified"] == "2024-08-12T09:00:00+07:00"
    assert record["body"].split("\n\n") == [
        "Đoạn thứ nhất của bài viết có đủ độ dài để được coi là nội dung chính của trang này.",
        "Đoạn thứ hai cũng là nội dung bài viết, với nhiều chữ hơn để vượt ngưỡng tối thiểu.",
    ]
    assert record["images"] == [
        {"src": "https://example.vn/a.jpg", "caption": "Ảnh minh họa.", "credit": "Minh Thu"}
    ]
    assert record["authors"] == ["Minh Thu"]
    assert record["language"] == "vi"
    assert record["body_source"] == "generic"


def test_page_with_no_article_gives_nulls_not_guesses():
    record = extract_article("<html><body><p>Trang chủ</p></body></html>".encode(), "https://x.vn/")
    assert record["title"] is None and record["body"] is None and record["published"] is None
    assert record["authors"] == [] and record["images"] == []


def test_unknown_site_names_the_known_ones():
    with pytest.raises(UnknownSiteError, match="baonamdinh"):
        extract_article(b"<html></html>", "https://x.vn/", site="no-such-site")


def test_extract_command_prints_the_record_as_json(site, tmp_path):
    seed = site.seed_article
    saved = tmp_path / "seed.html.gz"
    saved.write_bytes(gzip.compress(page_bytes(site, seed)))
    result = scrapy("extract", str(saved), "--url", ORIGIN + seed.path, "--site", "baonamdinh")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["authors"] == ["Lam Hồng"]
    assert "Lam Hồng" in result.stdout  # not ASCII-escaped


def test_extract_command_names_a_missing_file(tmp_path):
    missing = tmp_path / "nope.html"
    result = scrapy("extract", str(missing), "--url", "https://baonamdinh.vn/")
    assert result.returncode == 2
    assert str(missing) in result.stderr


def test_a_profile_whose_body_selectors_miss_falls_back_and_says_so(site):
    # A redesign renamed the body container: the record still has the article, and names the
    # fields the generic path had to fill so the crawl can count `articles/fallback/<site>`.
    seed = site.seed_article
    html = render_article(site, seed, ORIGIN)
    html = html.replace('id="contentdetail"', 'id="story"').replace("detail-content", "story")
    assert "contentdetail" not in html
    record = extract_article(html.encode(), ORIGIN + seed.path, site="baonamdinh")
    assert record["fallback"] == ["body"]
    assert record["body_source"] == "generic"
    assert record["title"] == seed.title
    body = record["body"].split("\n\n")
    assert body[0] == seed.paragraphs[0] and body[-1] == seed.paragraphs[-1]
    assert "Lam Hồng" not in record["body"]


def test_a_profile_that_finds_everything_reports_no_fallback(site):
    seed = site.seed_article
    record = extract_article(page_bytes(site, seed), ORIGIN + seed.path, site="baonamdinh")
    assert record["fallback"] == [] and record["dates_disagree"] is False


def test_sources_that_disagree_by_days_are_reported_and_the_time_wins():
    html = """<html><head><meta property="og:title" content="Bài thử">
    <meta property="article:published_time" content="2024-08-01">
    <script type="application/ld+json">{"@type": "NewsArticle",
      "datePublished": "2024-08-12T07:30:00+07:00"}</script></head>
    <body><article><p>Một đoạn văn đủ dài để làm nội dung của bài viết thử nghiệm này, hơn hai
    trăm ký tự để vượt qua ngưỡng tối thiểu của bộ trích xuất chung, và thêm vài chữ nữa cho chắc
    chắn rằng đoạn này được coi là thân bài chứ không phải là một dòng rác của trang.</p>
    </article></body></html>"""
    record = extract_article(html.encode(), "https://example.vn/2024/08/12/bai-thu.html")
    assert record["published"] == "2024-08-12T07:30:00+07:00"
    assert record["published_source"] == "json-ld"
    assert record["dates_disagree"] is True


def test_a_body_container_left_empty_by_a_redesign_also_falls_back(site):
    seed = site.seed_article
    html = render_article(site, seed, ORIGIN)
    # The old container is still on the page, but empty; the text moved to a new one.
    html = html.replace('id="contentdetail"', 'id="story"').replace("detail-content", "story")
    html = html.replace("<body>", '<body><div id="contentdetail"> </div>', 1)
    record = extract_article(html.encode(), ORIGIN + seed.path, site="baonamdinh")
    assert record["fallback"] == ["body"]
    assert record["body"].split("\n\n")[0] == seed.paragraphs[0]


def test_utf8_page_labelled_latin1_is_read_as_utf8(site):
    article = site.seed_article
    record = extract_article(page_bytes(site, article), ORIGIN + article.path, "baonamdinh",
                             content_type="text/html; charset=ISO-8859-1")
    assert record["title"] == article.title


def test_real_windows_1252_page_keeps_its_label():
    html = "<html><body><article><h1>Café crème</h1></article></body></html>".encode("cp1252")
    record = extract_article(html, "https://example.fr/a",
                             content_type="text/html; charset=latin-1")
    assert record["title"] == "Café crème"


def test_undeclared_windows_1258_page_is_detected_after_many_markup_errors(site):
    # However broken its markup, a page that is not UTF-8 must be recognised as such (and
    # decoded by detection), not read as UTF-8 with replacement characters.
    article = site.seed_article
    html = render_article(site, article, ORIGIN).replace('<meta charset="utf-8">', "")
    # The errors come before the first Vietnamese letter (in <title>).
    broken = "".join("<p a=1 a=2></q></zz>" for _ in range(150))
    html = html.replace("<head>", "<head>" + broken, 1)
    record = extract_article(to_windows_1258(html), ORIGIN + article.path, "baonamdinh")
    assert record["title"] == article.title
    assert "\ufffd" not in record["body"]


def test_invalid_bytes_in_a_utf8_page_become_replacement_characters(site):
    article = site.seed_article
    html = page_bytes(site, article)
    first = article.paragraphs[0].encode()
    damaged = html.replace(first, first[:10] + b"\xff\xfe" + first[10:], 1)
    record = extract_article(damaged, ORIGIN + article.path, "baonamdinh",
                             content_type="text/html; charset=utf-8")
    assert record["title"] == article.title
    body = record["body"].split("\n\n")
    assert body[0] == first[:10].decode() + "\ufffd\ufffd" + first[10:].decode()
    assert body[1:] == article.paragraphs[1:]


@pytest.mark.parametrize("depth", [10, 3000])
def test_a_deeply_nested_body_still_gives_its_text(depth):
    # HTML5 parsing sets no depth limit: reading the body must not either.
    html = (
        "<html><body><h1 class='detail-title'>Tiêu đề bài viết</h1><div id='contentdetail'>"
        + "<div>" * depth + "<p>Đoạn thứ nhất.</p><p>Đoạn thứ hai.</p>" + "</div>" * depth
        + "<p>Đoạn cuối.</p></div></body></html>"
    ).encode()
    record = extract_article(html, ORIGIN + "/channel/5085/202002/bai-viet-1/", "baonamdinh")
    assert record["title"] == "Tiêu đề bài viết"
    assert record["body"] == "Đoạn thứ nhất.\n\nĐoạn thứ hai.\n\nĐoạn cuối."
