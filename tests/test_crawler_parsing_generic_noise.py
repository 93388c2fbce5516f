"""Provincial-portal noise on the generic path: what a researcher must not find in a body.

The pages are synthetic (``tests/data/provincial-synthetic/README.md``): layouts of provincial
portals that issue 14 describes, with invented text. Each test is one kind of noise: teasers of
other articles, comment forms, "Tin liên quan" / "Đọc nhiều" / "Các tin khác" boxes, polls, a
caption repeated as text, site names around the headline, and the byline wherever it sits at the
end of the article.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.parsing import extract_article

DATA = Path(__file__).parent / "data" / "provincial-synthetic"


@pytest.fixture(scope="module")
def laocai() -> dict:
    html = (DATA / "laocai-like.html").read_bytes()
    return extract_article(html, "https://baolaocai.vn/du-lich/sa-pa-don-khach-122.html")


@pytest.fixture(scope="module")
def legacy() -> dict:
    html = (DATA / "legacy-table.html").read_bytes()
    return extract_article(html, "https://hagiang.gov.vn/tin-tuc/hoi-nghi-nong-nghiep-200.html")


def test_the_article_text_is_kept(laocai, legacy) -> None:
    assert laocai["body"].startswith("Theo Phòng Văn hóa - Thông tin thị xã Sa Pa")
    assert "quảng trường trung tâm" in laocai["body"]
    assert legacy["body"].startswith("Sáng 16/1, Sở Nông nghiệp")
    assert "phòng chống đói, rét" in legacy["body"]


def test_teasers_of_other_articles_are_not_body(laocai) -> None:
    assert "Bắc Hà" not in laocai["body"]
    assert "săn mây" not in laocai["body"]


def test_comment_forms_are_not_body(laocai) -> None:
    assert "Email (không hiển thị" not in laocai["body"]
    assert "mã xác nhận" not in laocai["body"]
    assert "Ý kiến bạn đọc" not in laocai["body"]


@pytest.mark.parametrize("noise", ["Tin liên quan", "Đọc nhiều", "Mưa lớn gây sạt lở",
                                   "Thăm dò ý kiến", "Bình chọn"])
def test_boxes_and_polls_are_not_body(laocai, noise) -> None:
    assert noise not in laocai["body"]


@pytest.mark.parametrize("noise", ["Các tin khác", "Đón Tết Giáp Thìn", "Kỳ họp thứ 15",
                                   "Bình chọn", "Tin tức - Sự kiện", "Bản quyền"])
def test_a_legacy_table_layout_keeps_its_lists_menus_and_polls_out(legacy, noise) -> None:
    assert noise.casefold() not in legacy["body"].casefold()


def test_a_caption_repeated_as_text_is_dropped(legacy) -> None:
    assert "Quang cảnh hội nghị" not in legacy["body"]


def test_the_byline_before_the_boxes_gives_the_authors(laocai) -> None:
    assert laocai["authors"] == ["Anh Dũng"] or laocai["authors"] == ["P.Y"]
    assert "Tin, ảnh" not in laocai["body"]
    assert not laocai["body"].rstrip().endswith("P.Y")


def test_an_author_alone_on_the_last_line_is_an_author(legacy) -> None:
    assert legacy["authors"] == ["Minh Anh"]
    assert "Minh Anh" not in legacy["body"]


def test_an_author_in_its_own_element_next_to_the_date_is_read() -> None:
    html = (DATA / "laocai-like.html").read_text(encoding="utf-8")
    # Without the byline line at the end, the author element is the only signature.
    html = html.replace("<p>Tin, ảnh: P.Y</p>", "")
    record = extract_article(html.encode(), "https://baolaocai.vn/du-lich/sa-pa-122.html")
    assert record["authors"] == ["Anh Dũng"]


@pytest.mark.parametrize(("fixture", "title"), [
    ("laocai", "Sa Pa đón hơn 10 nghìn lượt khách dịp nghỉ lễ"),
    ("legacy", "Hội nghị triển khai nhiệm vụ phát triển nông nghiệp năm 2024"),
])
def test_the_site_name_around_the_headline_is_not_title(fixture, title, request) -> None:
    assert request.getfixturevalue(fixture)["title"] == title


def test_the_visible_date_with_a_weekday_in_words_is_the_publication_date(laocai, legacy):
    assert laocai["published"] == "2024-05-02T16:45:00+07:00"
    assert legacy["published"] == "2024-01-16"
