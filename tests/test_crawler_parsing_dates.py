"""Tests for crawler.parsing.dates: Vietnamese date elements to ISO 8601 with an offset."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crawler.parsing.dates import (
    DEFAULT_TIMEZONE,
    ParsedDate,
    is_date_line,
    parse_vietnamese_datetime,
)

# Date-element texts as portals print them, with the ISO 8601 value we must produce.
# bench/bench_dates.py times the parser on these same strings.
FORMAT_CASES = [
    # baonamdinh.vn article header (the seed article): no space after "lúc".
    ("Cập nhật lúc19:29, Thứ Tư, 12/02/2020 (GMT+7)", "2020-02-12T19:29:00+07:00"),
    ("Cập nhật lúc 19:29, Thứ Tư, 12/02/2020 (GMT+7)", "2020-02-12T19:29:00+07:00"),
    ("Thứ Hai, 12/08/2024 - 07:30", "2024-08-12T07:30:00+07:00"),
    # vnexpress style: day and month without leading zeros.
    ("Thứ hai, 12/8/2024, 07:30 (GMT+7)", "2024-08-12T07:30:00+07:00"),
    ("15:42 | 21/11/2023", "2023-11-21T15:42:00+07:00"),
    ("21/11/2023 15:42", "2023-11-21T15:42:00+07:00"),
    ("21/11/2023 - 15:42:10", "2023-11-21T15:42:10+07:00"),
    ("07/03/2026 08:47", "2026-03-07T08:47:00+07:00"),
    ("Ngày 5 tháng 6 năm 2023", "2023-06-05"),
    ("ngày 05/06/2023", "2023-06-05"),
    ("Ngày đăng: 05/06/2023", "2023-06-05"),
    ("Chủ Nhật, 01/12/2024, 22:05", "2024-12-01T22:05:00+07:00"),
    ("12-02-2020 19:29", "2020-02-12T19:29:00+07:00"),
    ("12.02.2020 19:29", "2020-02-12T19:29:00+07:00"),
    ("2020-02-12T19:29:00+07:00", "2020-02-12T19:29:00+07:00"),
    ("2020-02-12T19:29:00", "2020-02-12T19:29:00+07:00"),
    # A CMS that writes a space before the offset and milliseconds we drop.
    ("2026-03-07T08:52:11.000 +07:00", "2026-03-07T08:52:11+07:00"),
    ("2024-08-12T00:30:00Z", "2024-08-12T00:30:00+00:00"),
    ("2024-08-12 07:30:00", "2024-08-12T07:30:00+07:00"),
    ("2024-08-12", "2024-08-12"),
    ("Đăng lúc 07:30 ngày 12/08/2024", "2024-08-12T07:30:00+07:00"),
    ("19 giờ 29 phút, ngày 12/02/2020", "2020-02-12T19:29:00+07:00"),
    ("19h29 ngày 12/2/2020", "2020-02-12T19:29:00+07:00"),
    ("Đăng lúc 7 giờ tối ngày 12/02/2020", "2020-02-12T19:00:00+07:00"),
    ("12/02/2020, 1 giờ 15 phút chiều", "2020-02-12T13:15:00+07:00"),
    ("12/02/2020 lúc 12 giờ trưa", "2020-02-12T12:00:00+07:00"),
    ("9 giờ sáng ngày 12/02/2020", "2020-02-12T09:00:00+07:00"),
    ("Cập nhật: 12/02/2020 19:29 GMT+7", "2020-02-12T19:29:00+07:00"),
    ("12 tháng 2, 2020 | 19:29", "2020-02-12T19:29:00+07:00"),
    ("Thứ Tư, 12/2/2020 7:05 PM", "2020-02-12T19:05:00+07:00"),
    ("Thứ Tư, 12/2/2020 12:30 AM", "2020-02-12T00:30:00+07:00"),
    ("12/02/2020 12:15 PM", "2020-02-12T12:15:00+07:00"),
    ("Thứ tư, 12/2/2020 | 7:05 CH", "2020-02-12T19:05:00+07:00"),
    ("12/02/2020 19:29 (GMT+07:00)", "2020-02-12T19:29:00+07:00"),
    ("12/02/2020 10:00 UTC-05:00", "2020-02-12T10:00:00-05:00"),
    ("\xa0Thứ Tư,\xa012/02/2020\xa0 19:29\xa0", "2020-02-12T19:29:00+07:00"),
    # Month names (issue 14): read by the regexes in many languages, no dateparser needed.
    ("February 12, 2020 7:29 PM", "2020-02-12T19:29:00+07:00"),
    ("February 12, 2020 7 PM", "2020-02-12T19:00:00+07:00"),
    ("12. Februar 2020, 19:29 Uhr", "2020-02-12T19:29:00+07:00"),
    ("12 de fevereiro de 2020 19h29", "2020-02-12T19:29:00+07:00"),
    ("20201123T11:02:35Z", "2020-11-23T11:02:35+00:00"),
]

# Shapes no regex knows: dateparser reads them.
DATEPARSER_CASES = [
    ("12 Tháng Hai 2020", "2020-02-12"),
    ("Thứ Tư, 12 Tháng Hai 2020 | 19:29", "2020-02-12T19:29:00+07:00"),
    # dateparser gives up on the whole line; the time is cut out and put back.
    ("Thứ Tư, 12 Tháng Hai 2020 lúc 7 giờ tối", "2020-02-12T19:00:00+07:00"),
    ("Ngày 12 Tháng Hai năm 2020 (GMT+7) 19:29", "2020-02-12T19:29:00+07:00"),
]

NOT_DATES = [
    "",
    "   ",
    "Tin, ảnh: Lam Hồng",
    "31/02/2020 10:00",
    "25:61 12/02/2020",
    "12/02/2020 24:00",
    "29/02/2023",
    "12/13/2020",
    "19:29",
    "2020-02-30T10:00:00+07:00",
    "12/02/2020 10:00 GMT+15",
    # Relative dates depend on the day of the crawl; a re-parse would move them.
    "2 giờ trước",
    "Hôm qua lúc 19:29",
]


@pytest.mark.parametrize(("text", "expected"), FORMAT_CASES)
def test_known_shapes_give_exact_iso(text: str, expected: str) -> None:
    parsed = parse_vietnamese_datetime(text)
    assert parsed is not None
    assert parsed.iso() == expected
    assert parsed.source_text == text
    assert parsed.value.tzinfo is not None


@pytest.mark.parametrize(("text", "expected"), FORMAT_CASES)
def test_known_shapes_need_no_dateparser(text: str, expected: str) -> None:
    parsed = parse_vietnamese_datetime(text, fallback=False)
    assert parsed is not None
    assert parsed.iso() == expected


@pytest.mark.parametrize(("text", "expected"), DATEPARSER_CASES)
def test_unknown_shapes_fall_back_to_dateparser(text: str, expected: str) -> None:
    assert parse_vietnamese_datetime(text, fallback=False) is None
    parsed = parse_vietnamese_datetime(text)
    assert parsed is not None
    assert parsed.iso() == expected


@pytest.mark.parametrize("text", NOT_DATES)
def test_text_without_a_valid_date_gives_none(text: str) -> None:
    assert parse_vietnamese_datetime(text) is None


def test_date_without_time_is_printed_as_date_only() -> None:
    parsed = parse_vietnamese_datetime("ngày 05/06/2023")
    assert parsed is not None
    assert parsed.has_time is False
    assert parsed.iso() == "2023-06-05"
    assert parsed.value.utcoffset() == timedelta(hours=7)


def test_midnight_given_by_the_page_is_a_time() -> None:
    parsed = parse_vietnamese_datetime("12/02/2020 00:00")
    assert parsed is not None
    assert parsed.has_time is True
    assert parsed.iso() == "2020-02-12T00:00:00+07:00"


def test_iso_prints_seconds_even_when_zero() -> None:
    value = datetime(2020, 2, 12, 19, 29, tzinfo=ZoneInfo(DEFAULT_TIMEZONE))
    assert ParsedDate(value, True, "").iso() == "2020-02-12T19:29:00+07:00"
    assert ParsedDate(value, False, "").iso() == "2020-02-12"


@pytest.mark.parametrize(
    ("timezone", "expected"),
    [
        (DEFAULT_TIMEZONE, "2020-02-12T19:29:00+07:00"),
        ("Asia/Bangkok", "2020-02-12T19:29:00+07:00"),
        ("UTC", "2020-02-12T19:29:00+00:00"),
        ("Asia/Tokyo", "2020-02-12T19:29:00+09:00"),
    ],
)
def test_site_timezone_applies_to_naive_text(timezone: str, expected: str) -> None:
    parsed = parse_vietnamese_datetime("Thứ Tư, 12/02/2020 19:29", timezone)
    assert parsed is not None
    assert parsed.iso() == expected
    iso_parsed = parse_vietnamese_datetime("2020-02-12T19:29:00", timezone)
    assert iso_parsed is not None
    assert iso_parsed.iso() == expected


@pytest.mark.parametrize(
    "text",
    [
        "Cập nhật lúc19:29, Thứ Tư, 12/02/2020 (GMT+7)",
        "2020-02-12T19:29:00+07:00",
    ],
)
def test_explicit_offset_wins_over_site_timezone(text: str) -> None:
    parsed = parse_vietnamese_datetime(text, "UTC")
    assert parsed is not None
    assert parsed.iso() == "2020-02-12T19:29:00+07:00"


def test_site_timezone_applies_to_dateparser_results() -> None:
    parsed = parse_vietnamese_datetime("Thứ Tư, 12 Tháng Hai 2020 | 19:29", "UTC")
    assert parsed is not None
    assert parsed.iso() == "2020-02-12T19:29:00+00:00"


@pytest.mark.parametrize(
    "text",
    [
        "Cập nhật lúc19:29, Thứ Tư, 12/02/2020 (GMT+7)",
        "Thứ Hai, 12/08/2024 - 07:30",
        "Thứ hai, 12/8/2024, 07:30 (GMT+7)",
        "15:42 | 21/11/2023",
        "Ngày đăng: 05/06/2023",
        "Đăng lúc 07:30 ngày 12/08/2024",
        "Chủ Nhật, 01/12/2024, 22:05",
        "Ngày 5 tháng 6 năm 2023",
        "2024-08-12T07:30:00+07:00",
        "Thứ Tư, 12/2/2020 7:05 PM",
        "Cập nhật lần cuối: 12/02/2020 - 19:29 GMT+7",
        "| 12/02/2020 |",
    ],
)
def test_date_lines_are_recognised(text: str) -> None:
    assert is_date_line(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Tin, ảnh: Lam Hồng",
        "Ngày 12/02/2020, tỉnh tổ chức hội nghị tổng kết.",
        "Chiều 12-2, Khối thi đua Mặt trận Tổ quốc tổng kết phong trào thi đua năm 2019.",
        "Chỉ thị số 05-CT/TW ngày 15-5-2016 của Bộ Chính trị",
        "Hội nghị diễn ra lúc 19:29 ngày 12/02/2020 tại Hà Nội",
        "19:29",
        "Năm 2020",
        # Long enough to be a sentence even though every word is a date word.
        "Thứ Hai 12/08/2024 Thứ Ba 13/08/2024 Thứ Tư 14/08/2024 Thứ Năm 15/08/2024 Thứ Sáu",
    ],
)
def test_sentences_are_not_date_lines(text: str) -> None:
    assert is_date_line(text) is False


# Zones named the ways English-language pages name them (seen in the metadata of the
# article-extraction benchmark's pages): a wrong zone shifts the time by up to a day.
NAMED_ZONE_CASES = [
    ("November 19, 2019, 07:47 PM EST", "2019-11-19T19:47:00-05:00"),
    ("19 Nov 2019 07:09 GMT", "2019-11-19T07:09:00+00:00"),
    ("19/11/2019 07:09 UTC", "2019-11-19T07:09:00+00:00"),
    ("Mon, 18 Nov 2019 16:07:38 -0600", "2019-11-18T16:07:38-06:00"),
    ("Tue Nov 19 2019 03:05:46 GMT+0000", "2019-11-19T03:05:46+00:00"),
    # Ambiguous abbreviations are not guessed: the site's zone applies.
    ("November 20, 2019 13:42 CST", "2019-11-20T13:42:00+07:00"),
]


@pytest.mark.parametrize(("text", "expected"), NAMED_ZONE_CASES)
def test_named_zones_and_numeric_offsets_are_applied(text: str, expected: str) -> None:
    parsed = parse_vietnamese_datetime(text)
    assert parsed is not None
    assert parsed.iso() == expected
