"""Tests for crawler.parsing.bylines: author lines and photo credits of Vietnamese articles."""

from __future__ import annotations

import pytest

from crawler.parsing.bylines import Byline, parse_byline, split_caption_credit

# (paragraph, authors, credit, source) for paragraphs that are bylines wherever they appear.
PREFIXED_AND_SOURCE_CASES = [
    ("Tin, ảnh: Lam Hồng", ("Lam Hồng",), "Tin, ảnh", None),
    ("Bài và ảnh: Thanh Thúy", ("Thanh Thúy",), "Bài và ảnh", None),
    ("Bài, ảnh: Minh Hà", ("Minh Hà",), "Bài, ảnh", None),
    ("Tin và ảnh: Hải Yến", ("Hải Yến",), "Tin và ảnh", None),
    ("Bài: Viết Dư", ("Viết Dư",), "Bài", None),
    ("Tin: Ngọc Lan", ("Ngọc Lan",), "Tin", None),
    ("Ảnh: Thanh Thúy", ("Thanh Thúy",), "Ảnh", None),
    ("Video: Hoàng Anh", ("Hoàng Anh",), "Video", None),
    ("Bài, ảnh, clip: Trần Minh Đức", ("Trần Minh Đức",), "Bài, ảnh, clip", None),
    ("Bài và ảnh: Viết Dư - Thanh Thúy", ("Viết Dư", "Thanh Thúy"), "Bài và ảnh", None),
    ("Tin, ảnh: Ngọc Lan, Hải Yến", ("Ngọc Lan", "Hải Yến"), "Tin, ảnh", None),
    ("Bài: Ngọc Lan – Hải Yến", ("Ngọc Lan", "Hải Yến"), "Bài", None),
    ("Bài: Ngọc Lan và Hải Yến", ("Ngọc Lan", "Hải Yến"), "Bài", None),
    ("Tin, ảnh: Lam Hồng.", ("Lam Hồng",), "Tin, ảnh", None),
    ("TIN, ẢNH: LAM HỒNG", ("LAM HỒNG",), "TIN, ẢNH", None),
    ("Bài, ảnh: Thanh Thúy (Báo Nam Định)", ("Thanh Thúy",), "Bài, ảnh", None),
    ("Tin: Lam Hồng, phóng viên thường trú", ("Lam Hồng",), "Tin", None),
    ("Ảnh: TTXVN", (), "Ảnh", "TTXVN"),
    ("Ảnh: Thanh Thúy/TTXVN", ("Thanh Thúy",), "Ảnh", "TTXVN"),
    # Agencies are sources, not people: no authors, the attribution as printed in credit.
    ("Theo TTXVN", (), "Theo TTXVN", "TTXVN"),
    ("(Theo VOV)", (), "Theo VOV", "VOV"),
    ("Nguồn: Báo Nhân Dân", (), "Nguồn: Báo Nhân Dân", "Báo Nhân Dân"),
    ("Theo báo Nhân Dân", (), "Theo báo Nhân Dân", "báo Nhân Dân"),
    # The staff signature is how the paper signs: kept as the author, as printed.
    ("PV", ("PV",), None, None),
    ("Nhóm PV", ("Nhóm PV",), None, None),
    ("PV (tổng hợp)", ("PV",), "tổng hợp", None),
    # A staff mark in the parenthesis signs a name even where bare names are not allowed.
    ("Hoàng Anh (CTV)", ("Hoàng Anh",), "CTV", None),
]

# Names without a prefix: accepted only with allow_bare_name.
BARE_NAME_CASES = [
    ("Minh Thu", ("Minh Thu",), None, None),
    ("Lam Hồng\xa0", ("Lam Hồng",), None, None),
    ("Viết Dư - Thanh Thúy", ("Viết Dư", "Thanh Thúy"), None, None),
    ("Ngọc Lan, Hải Yến", ("Ngọc Lan", "Hải Yến"), None, None),
    ("Ngọc Lan và Hải Yến", ("Ngọc Lan", "Hải Yến"), None, None),
    ("Minh Thu (tổng hợp)", ("Minh Thu",), "tổng hợp", None),
    ("Nguyễn Thị Thanh Hương", ("Nguyễn Thị Thanh Hương",), None, None),
    ("TTXVN", (), "TTXVN", "TTXVN"),
]

NOT_BYLINES = [
    "",
    "Chiều 12-2, Khối thi đua Mặt trận Tổ quốc và các đoàn thể tỉnh tổng kết phong trào.",
    "Đồng chí Trần Văn Chung phát biểu.",
    "Đồng chí Trần Văn Chung",
    "Hà Nội",
    "Tỉnh ủy Nam Định",
    "Minh Thu.",
    "Minh",
    "Năm 2020",
    "Lam Hồng 2020",
    "Video: Xem toàn cảnh lễ khai mạc",
    "Ảnh minh họa",
    "Ảnh: minh họa",
    "Bài 1: Những bước chân đầu tiên",
    "Tin: Hội nghị tổng kết năm 2020",
    "Theo kế hoạch, tỉnh sẽ tổ chức hội nghị vào tháng 3.",
    "Theo kế hoạch.",
    "Theo ông Nguyễn Văn An",
    "Các đồng chí: Trần Văn Chung, Đoàn Văn Hùng tới dự.",
    "Phát biểu tại hội nghị, đồng chí Phó Bí thư Thường trực Tỉnh ủy đã ghi nhận.",
    "Tin, ảnh: " + "Lam Hồng " * 30,
]


def _expected(
    text: str, authors: tuple[str, ...], credit: str | None, source: str | None
) -> Byline:
    return Byline(authors=authors, credit=credit, text=text.strip(), source=source)


@pytest.mark.parametrize(("text", "authors", "credit", "source"), PREFIXED_AND_SOURCE_CASES)
def test_prefixed_and_source_bylines(
    text: str, authors: tuple[str, ...], credit: str | None, source: str | None
) -> None:
    expected = _expected(text, authors, credit, source)
    assert parse_byline(text) == expected
    assert parse_byline(text, allow_bare_name=False) == expected


@pytest.mark.parametrize(("text", "authors", "credit", "source"), BARE_NAME_CASES)
def test_bare_names_only_where_allowed(
    text: str, authors: tuple[str, ...], credit: str | None, source: str | None
) -> None:
    assert parse_byline(text, allow_bare_name=True) == _expected(text, authors, credit, source)
    assert parse_byline(text, allow_bare_name=False) is None


@pytest.mark.parametrize("text", NOT_BYLINES)
def test_sentences_and_headings_are_not_bylines(text: str) -> None:
    assert parse_byline(text, allow_bare_name=True) is None


def test_byline_text_is_normalised() -> None:
    byline = parse_byline("  Tin,\xa0ảnh:  Lam Hồng \xa0")
    assert byline == Byline(authors=("Lam Hồng",), credit="Tin, ảnh", text="Tin, ảnh: Lam Hồng")


def test_decomposed_unicode_is_read_as_nfc() -> None:
    byline = parse_byline("Tin, a\u0309nh: Lam Ho\u0302\u0300ng")
    assert byline is not None
    assert byline.authors == ("Lam Hồng",)
    assert byline.credit == "Tin, ảnh"


@pytest.mark.parametrize(
    ("text", "caption", "credit"),
    [
        (
            "Đồng chí Trần Văn Chung phát biểu tại hội nghị. Ảnh: Viết Dư",
            "Đồng chí Trần Văn Chung phát biểu tại hội nghị.",
            "Viết Dư",
        ),
        ("Toàn cảnh hội nghị. (Ảnh: TTXVN)", "Toàn cảnh hội nghị.", "TTXVN"),
        ("Toàn cảnh hội nghị (Ảnh: TTXVN).", "Toàn cảnh hội nghị", "TTXVN"),
        ("Toàn cảnh hội nghị - Ảnh: Thanh Thúy", "Toàn cảnh hội nghị", "Thanh Thúy"),
        ("Toàn cảnh hội nghị – Ảnh: Thanh Thúy.", "Toàn cảnh hội nghị", "Thanh Thúy"),
        ("Toàn cảnh hội nghị. Ảnh minh họa: Internet", "Toàn cảnh hội nghị.", "Internet"),
        ("Toàn cảnh hội nghị.\xa0Ảnh:\xa0Viết Dư", "Toàn cảnh hội nghị.", "Viết Dư"),
        ("Toàn cảnh hội nghị. (Nguồn: Báo Nhân Dân)", "Toàn cảnh hội nghị.", "Báo Nhân Dân"),
        ("Ảnh: Viết Dư", "", "Viết Dư"),
    ],
)
def test_caption_credit_is_split_off(text: str, caption: str, credit: str) -> None:
    assert split_caption_credit(text) == (caption, credit)


@pytest.mark.parametrize(
    "text",
    [
        "Đồng chí Trần Văn Chung phát biểu tại hội nghị.",
        # Lower-case "ảnh" belongs to the sentence.
        "Hình ảnh: các đại biểu dự hội nghị",
        "Ảnh minh họa",
        "Toàn cảnh hội nghị. Ảnh: " + "rất nhiều từ " * 10,
    ],
)
def test_caption_without_credit_is_kept_whole(text: str) -> None:
    assert split_caption_credit(text) == (text.strip(), None)
