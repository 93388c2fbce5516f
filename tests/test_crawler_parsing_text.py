"""Tests for crawler.parsing.text: normalisation, noise rules and the body/byline split."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.parsing.bylines import Byline
from crawler.parsing.text import (
    clean_paragraphs,
    is_noise_line,
    is_punctuation_only,
    normalize_space,
    pop_byline,
    text_key,
)

# The seed article (baonamdinh.vn, 12/02/2020) as a naive extraction left it: date line, the
# image caption twice, a trailing NBSP after "./.", the byline and a tail of stray punctuation.
# Inlined so the test does not depend on the copy in tests/data/seed; a second test checks the
# copy, when present, still matches.
SEED_FILE = Path(__file__).parent / "data" / "seed" / "seed-article-as-extracted.txt"

SEED_TITLE = (
    "Khối thi đua Mặt trận Tổ quốc và các đoàn thể tỉnh phát động phong trào thi đua năm 2020"
)

SEED_CAPTION = (
    "Đồng chí Trần Văn Chung, Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh phát "
    "biểu chỉ đạo tại hội nghị."
)

SEED_P1 = (
    "Chiều 12-2, Khối thi đua Mặt trận Tổ quốc và các đoàn thể tỉnh tổng kết phong trào "
    "thi đua năm 2019, phát động phong trào thi đua năm 2020. Các đồng chí: Trần Văn "
    "Chung, Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh; Đoàn Văn Hùng, Ủy viên "
    "Ban TVTU, Chủ tịch Ủy ban MTTQ tỉnh; lãnh đạo các đơn vị trong khối thi đua tới dự."
)

SEED_P2 = (
    "Năm 2019, Khối thi đua Mặt trận Tổ quốc và các đoàn thể tỉnh đã tổ chức phát động và "
    "triển khai sâu rộng, có hiệu quả các phong trào thi đua đến tất cả các cán bộ, đoàn "
    "viên, hội viên và các tầng lớp nhân dân. Tiếp tục đổi mới công tác thi đua khen "
    "thưởng theo hướng thiết thực, hiệu quả gắn với thực hiện Chỉ thị số 05-CT/TW ngày "
    "15-5-2016 của Bộ Chính trị về “Đẩy mạnh học tập và làm theo tư tưởng, đạo đức, phong "
    "cách Hồ Chí Minh”. Tổ chức triển khai có hiệu quả cuộc vận động “Cả nước chung tay "
    "vì người nghèo - Không để ai bị bỏ lại phía sau”; và phong trào thi đua “Nam Định "
    "chung sức xây dựng nông thôn mới” giai đoạn 2016-2020. Thực hiện đổi mới nội dung, "
    "phương thức hoạt động và thu hút tập hợp đoàn viên, hội viên. Qua đó đã hoàn thành "
    "xuất sắc nhiệm vụ của từng thành viên trong Khối thi đua, góp phần hoàn thành tốt "
    "nhiệm vụ chính trị và các chỉ tiêu kinh tế - xã hội, quốc phòng - an ninh của tỉnh."
)

SEED_P3 = (
    "Năm 2020, Khối thi đua Mặt trận Tổ quốc và các đoàn thể tỉnh tiếp tục tăng cường, mở "
    "rộng khối đại đoàn kết toàn dân, sự đồng thuận xã hội; tuyên truyền, vận động đoàn "
    "viên, hội viên và nhân dân góp ý tham gia xây dựng Đảng, chính quyền; tích cực tham "
    "gia các cuộc vận động, các phong trào thi đua yêu nước; trong đó tiếp tục đẩy mạnh "
    "phong trào thi đua “Xây dựng nông thôn mới”, nâng cao chất lượng các tiêu chí ở các "
    "xã đã đạt chuẩn nông thôn mới gắn với mô hình nông thôn mới kiểu mẫu “sáng - xanh - "
    "sạch - đẹp” phát triển bền vững. Phát động phong trào thi đua trong đoàn viên, hội "
    "viên và các tầng lớp nhân dân, hướng các hoạt động về cơ sở. Tổ chức tốt các phong "
    "trào thi đua lập thành tích chào mừng Đại hội Đảng các cấp tiến tới Đại hội đại biểu "
    "Đảng bộ tỉnh lần thứ XX. Tổ chức cho đoàn viên, hội viên tham gia đóng góp văn kiện "
    "Đại hội Đảng các cấp. Nâng cao chất lượng, hiệu quả phối hợp công tác với các đơn vị "
    "liên quan nhằm phát huy vai trò của tổ chức mình trong việc thực hiện nhiệm vụ chính "
    "trị chung của địa phương; đồng thời nâng cao năng lực đại diện và bảo vệ quyền, lợi "
    "ích chính đáng của đoàn viên, hội viên và nhân dân. Quan tâm bồi dưỡng nâng cao chất "
    "lượng đội ngũ cán bộ hội. Chú trọng thực hiện tốt công tác thi đua, khen thưởng; "
    "biểu dương, nhân rộng các điển hình tiên tiến, gương người tốt, việc tốt."
)

SEED_P4 = (
    "Phát biểu tại hội nghị, đồng chí Phó Bí thư Thường trực Tỉnh ủy đã ghi nhận, đánh "
    "giá cao nỗ lực của các đơn vị thành viên trong Khối thi đua Mặt trận Tổ quốc và các "
    "đoàn thể tỉnh trong triển khai phong trào thi đua, thu được kết quả tốt, góp phần "
    "vào phong trào thi đua chung của tỉnh và nhấn mạnh: Thời gian tới, các đơn vị căn cứ "
    "vào tình hình cụ thể để đăng ký danh hiệu thi đua. Bám sát nhiệm vụ kinh tế - xã "
    "hội, an ninh - quốc phòng của tỉnh, tổ chức nhiều phong trào với nội dung thiết "
    "thực, phù hợp nhằm phát huy vai trò của tổ chức mình trong việc thực hiện nhiệm vụ "
    "chính trị chung của địa phương, góp phần vào thành công Đại hội Đảng bộ các cấp./."
)

SEED_DATE_LINE = "Cập nhật lúc19:29, Thứ Tư, 12/02/2020 (GMT+7)"
SEED_BYLINE_LINE = "Tin, ảnh: Lam Hồng"
SEED_LINES = (
    SEED_DATE_LINE,
    "",
    SEED_P1,
    "",
    SEED_CAPTION,
    SEED_CAPTION,
    "",
    SEED_P2,
    "",
    SEED_P3,
    "",
    SEED_P4 + "\xa0",
    "",
    SEED_BYLINE_LINE,
    "",
    *(",", ",", ".", ",", ",", ",", ","),
)


def test_seed_article_gives_four_paragraphs_and_the_byline() -> None:
    cleaned = clean_paragraphs(SEED_LINES, captions=[SEED_CAPTION])
    body, byline = pop_byline(cleaned)
    assert body == [SEED_P1, SEED_P2, SEED_P3, SEED_P4]
    assert body[-1].endswith("Đảng bộ các cấp./.")
    assert byline == Byline(authors=("Lam Hồng",), credit="Tin, ảnh", text=SEED_BYLINE_LINE)


def test_seed_caption_is_dropped_when_given_with_its_credit() -> None:
    cleaned = clean_paragraphs(SEED_LINES, captions=[SEED_CAPTION + " Ảnh: Lam Hồng"])
    assert SEED_CAPTION not in cleaned
    assert pop_byline(cleaned)[0] == [SEED_P1, SEED_P2, SEED_P3, SEED_P4]


@pytest.mark.skipif(not SEED_FILE.exists(), reason="seed copy not in tests/data/seed")
def test_inline_seed_matches_the_seed_file() -> None:
    lines = SEED_FILE.read_text(encoding="utf-8").splitlines()
    assert lines[0] == SEED_TITLE
    assert tuple(lines[1:]) == SEED_LINES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Tin,\xa0ảnh:\u00a0 Lam Hồng\n", "Tin, ảnh: Lam Hồng"),
        ("a\u200bb", "ab"),
        ("Hà\u00adNội", "HàNội"),
        ("\ufeffĐầu bài", "Đầu bài"),
        ("một\u2009hai\u3000ba\u202fbốn\tnăm\r\nsáu", "một hai ba bốn năm sáu"),
        ("Ho\u0302\u0300ng", "Hồng"),
        ("\xa0\u200b ", ""),
        ("", ""),
    ],
)
def test_normalize_space(text: str, expected: str) -> None:
    assert normalize_space(text) == expected


@pytest.mark.parametrize(
    "text", [",", ".", ", ,", "…", "-", "|", "»", "./.", '""', "“ ”", "", "  \xa0", "\u200b"]
)
def test_punctuation_only_lines(text: str) -> None:
    assert is_punctuation_only(text) is True


@pytest.mark.parametrize("text", ["a", "1", "./. Hết", "(1)", "Ừ"])
def test_lines_with_a_letter_or_digit_are_not_punctuation_only(text: str) -> None:
    assert is_punctuation_only(text) is False


@pytest.mark.parametrize(
    "text",
    [
        ",",
        "./.",
        SEED_DATE_LINE,
        "Thứ Hai, 12/08/2024 - 07:30",
        "15:42 | 21/11/2023",
        "Ngày đăng: 05/06/2023",
        "Chia sẻ",
        "Facebook",
        "Zalo",
        "In bài",
        "Gửi email",
        "Bình luận",
        "Tweet",
        "Chia sẻ bài viết",
        "Chia sẻ Facebook Zalo",
        "Facebook | Zalo | In bài | Gửi email",
        "Bình luận (3)",
        "QUẢNG CÁO",
        "Quảng cáo",
        "Advertisement",
        "Tin liên quan",
        "Tin liên quan:",
        "Bài liên quan",
        "Tin cùng chuyên mục",
        "Đọc thêm",
        "Xem thêm",
        "Tin khác",
        "Đọc nhiều",
        "Xem thêm: Nam Định khai mạc lễ hội Phủ Dầy",
        ">> Đọc thêm: Nam Định khai mạc lễ hội Phủ Dầy",
        "Từ khóa: Nam Định, thi đua",
        "Từ khoá: Nam Định",
        "Tags: thi đua, Mặt trận",
    ],
)
def test_noise_lines(text: str) -> None:
    assert is_noise_line(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "Trang Facebook của Sở đã đăng tải thông tin về hội nghị.",
        "Người dân có thể gửi phản ánh qua Zalo của phường.",
        "Ngày 12/02/2020, tỉnh tổ chức hội nghị tổng kết.",
        "Chia sẻ kinh nghiệm phát triển nông thôn mới",
        "In ấn tài liệu phục vụ đại hội",
        "Xem thêm các tin tại chuyên mục Xã hội trên trang",
        "Quảng cáo sai sự thật bị xử phạt",
        "Lưu ý: người dân cần mang theo căn cước.",
        "Tin, ảnh: Lam Hồng",
        SEED_P1,
    ],
)
def test_sentences_are_not_noise(text: str) -> None:
    assert is_noise_line(text) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đồng chí X PHÁT BIỂU tại hội nghị. ", "đồng chí x phát biểu tại hội nghị"),
        ("Hội nghị./.\xa0", "hội nghị"),
        ("«Trích dẫn»", "«trích dẫn"),
        ("Ho\u0302\u0300ng!!", "hồng"),
        ("...", ""),
    ],
)
def test_text_key(text: str, expected: str) -> None:
    assert text_key(text) == expected


def test_clean_paragraphs_drops_noise_and_keeps_order() -> None:
    paragraphs = ["  Đoạn một.", "", "Chia sẻ", "Đoạn\xa0hai.", ",", "QUẢNG CÁO", "Đoạn ba."]
    assert clean_paragraphs(paragraphs) == ["Đoạn một.", "Đoạn hai.", "Đoạn ba."]


def test_clean_paragraphs_drops_consecutive_duplicates_only() -> None:
    paragraphs = ["Đoạn một.", "Đoạn một.", "Đoạn\xa0một.", "Đoạn hai.", "Đoạn một."]
    assert clean_paragraphs(paragraphs) == ["Đoạn một.", "Đoạn hai.", "Đoạn một."]


@pytest.mark.parametrize(
    ("caption", "paragraph"),
    [
        ("Toàn cảnh hội nghị.", "Toàn cảnh hội nghị."),
        ("Toàn cảnh hội nghị.", "toàn cảnh hội nghị"),
        ("Toàn cảnh hội nghị. Ảnh: Viết Dư", "Toàn cảnh hội nghị."),
        ("Toàn cảnh hội nghị.", "Toàn cảnh hội nghị. Ảnh: Viết Dư"),
        ("Toàn cảnh hội nghị (Ảnh: TTXVN)", "Toàn cảnh hội nghị - Ảnh: Viết Dư"),
    ],
)
def test_clean_paragraphs_drops_captions_with_or_without_credit(
    caption: str, paragraph: str
) -> None:
    paragraphs = ["Đoạn một.", paragraph, "Đoạn hai."]
    assert clean_paragraphs(paragraphs, captions=[caption]) == ["Đoạn một.", "Đoạn hai."]


def test_clean_paragraphs_keeps_a_paragraph_that_only_contains_the_caption() -> None:
    paragraphs = ["Toàn cảnh hội nghị. Sau đó các đại biểu đi thăm mô hình.", "Đoạn hai."]
    assert clean_paragraphs(paragraphs, captions=["Toàn cảnh hội nghị."]) == paragraphs


def test_empty_caption_drops_nothing() -> None:
    assert clean_paragraphs(["Đoạn một."], captions=["", " ", "Ảnh: Viết Dư"]) == ["Đoạn một."]


def test_clean_paragraphs_drops_the_repeated_lead() -> None:
    lead = "Chiều 12-2, Khối thi đua tổng kết phong trào thi đua năm 2019."
    paragraphs = [lead.upper(), "Đoạn một.", lead]
    assert clean_paragraphs(paragraphs, exclude=[lead]) == ["Đoạn một."]


@pytest.mark.parametrize(
    ("paragraphs", "body", "byline"),
    [
        (
            ["Đoạn một.", "Tin, ảnh: Lam Hồng"],
            ["Đoạn một."],
            Byline(("Lam Hồng",), "Tin, ảnh", "Tin, ảnh: Lam Hồng"),
        ),
        (
            ["Đoạn một.", "Minh Thu"],
            ["Đoạn một."],
            Byline(("Minh Thu",), None, "Minh Thu"),
        ),
        (
            ["Đoạn một.", "Hoàng Anh (CTV)"],
            ["Đoạn một."],
            Byline(("Hoàng Anh",), "CTV", "Hoàng Anh (CTV)"),
        ),
        (
            ["Đoạn một.", "Theo TTXVN"],
            ["Đoạn một."],
            Byline((), "Theo TTXVN", "Theo TTXVN", "TTXVN"),
        ),
        (
            ["Đoạn một.", "Tin, ảnh: Lam Hồng", "Theo TTXVN"],
            ["Đoạn một."],
            Byline(("Lam Hồng",), "Tin, ảnh", "Tin, ảnh: Lam Hồng\nTheo TTXVN", "TTXVN"),
        ),
        (
            ["Đoạn một.", "Bài: Minh Thu", "Ảnh: Hải Yến"],
            ["Đoạn một."],
            Byline(("Minh Thu", "Hải Yến"), "Bài; Ảnh", "Bài: Minh Thu\nẢnh: Hải Yến"),
        ),
        (
            ["Đoạn một.", "Bài và ảnh: Viết Dư - Thanh Thúy"],
            ["Đoạn một."],
            Byline(("Viết Dư", "Thanh Thúy"), "Bài và ảnh", "Bài và ảnh: Viết Dư - Thanh Thúy"),
        ),
    ],
)
def test_pop_byline(paragraphs: list[str], body: list[str], byline: Byline) -> None:
    original = list(paragraphs)
    assert pop_byline(paragraphs) == (body, byline)
    assert paragraphs == original


@pytest.mark.parametrize(
    "paragraphs",
    [
        [],
        ["Đoạn một.", "Đồng chí Trần Văn Chung phát biểu."],
        ["Đoạn một.", "Hà Nội"],
        ["Đoạn một.", "Minh Thu."],
        # A bare name is a byline only in the last paragraph.
        ["Minh Thu", "Đoạn một."],
        ["Tin, ảnh: Lam Hồng", "Đoạn cuối cùng của bài viết."],
    ],
)
def test_pop_byline_never_removes_text(paragraphs: list[str]) -> None:
    assert pop_byline(paragraphs) == (paragraphs, None)


def test_pop_byline_keeps_a_bare_name_before_the_byline() -> None:
    paragraphs = ["Đoạn một.", "Minh Thu", "Tin, ảnh: Lam Hồng"]
    body, byline = pop_byline(paragraphs)
    assert body == ["Đoạn một.", "Minh Thu"]
    assert byline is not None
    assert byline.authors == ("Lam Hồng",)
