"""The generic path on real Vietnamese news pages: titles, dates, and bodies without furniture.

The pages (listed in ``tests/data/real-vn/manifest.json``, see its README; saved under
``tests/sites/<site_id>/``) come from 8 national outlets. Their site profiles are tested by
``tests/test_sites.py``; here the profile is left out, so every field comes from the generic
extractor, as for an outlet no profile covers yet. Expected titles and publication times
are the pages' own metadata as the manifest records them; the body checks are what a researcher
looks for in a clean corpus: sentences of the article present, page furniture absent.
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bench.eval_extraction import article_text, score_pages
from crawler.parsing.article import extract_with_profile

TESTS = Path(__file__).parent
DATA = TESTS / "data" / "real-vn"
MANIFEST = [
    entry for entry in json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
    if entry["type"] == "article"
]
VIETNAM = timezone(timedelta(hours=7))

# Publication times the metadata does not give: baodautu.vn prints only "07/03/2026 08:47".
VISIBLE_PUBLISHED = {
    "baodautu_article": datetime(2026, 3, 7, 8, 47, tzinfo=VIETNAM),
}

# Per page, sentences of the article that must be in lead or body ("with") and page furniture
# seen on that page that must not ("without", matched as whole paragraphs).
SNIPPETS = {
    "baochinhphu_article": {
        "with": ["Nghị định số 58/2026/NĐ-CP có hiệu lực từ ngày 15/3/2026.",
                 "Đồng bào dân tộc thiểu số ở các xã đặc biệt khó khăn"],
        "without": ["Tải ứng dụng:", "BÁO ĐIỆN TỬ CHÍNH PHỦ"],
    },
    "baodautu_article": {
        "with": ["Uỷ ban Chứng khoán Nhà nước vừa có quyết định xử phạt",
                 "Cổ phiếu AAT cũng đang nằm trong diện cảnh báo"],
        "without": ["- Khi bảo hiểm trở thành đòn bẩy kiến tạo gia sản",
                    "Khi bảo hiểm trở thành đòn bẩy kiến tạo gia sản",
                    "| Diễn biến cổ phiếu AAT trong giai đoạn 2021 - 2023 |",
                    "Diễn biến cổ phiếu AAT trong giai đoạn 2021 - 2023"],
    },
    "cafef_article": {
        "with": ["Trong báo cáo cập nhật nâng hạng mới công bố",
                 "MBS cũng lưu ý rằng danh mục trên có thể sẽ có sự thay đổi"],
        "without": ["Nhịp sống thị trường"],
    },
    "cafef_article_batdongsan": {
        "with": ["Gửi kiến nghị tới Bộ Tài chính",
                 "Các quy định nêu trên đã thể hiện định hướng điều chỉnh chính sách"],
        "without": ["Đại Đoàn kết"],
    },
    "dantri_article": {
        "with": ["Cụ thể, chốt phiên 6/3, giá vàng miếng SJC",
                 "Tỷ giá USD tại Sở giao dịch Ngân hàng Nhà nước"],
        "without": [],
    },
    "nld_article": {
        "with": ["Chính phủ vừa ban hành Nghị định 68/2026/NĐ-CP",
                 "TS Nguyễn Hồng Trang nêu rõ"],
        "without": ["Tải ứng dụng đọc báo Người Lao Động"],
    },
    "tuoitre_article": {
        "with": ["Hoa nhập khẩu thiếu hàng",
                 "Theo các cửa hàng hoa, những loại hoa chịu tác động rõ nhất"],
        "without": [],
    },
    "vietnamnet_article": {
        "with": ["Theo thông báo của doanh nghiệp, Chứng khoán Artex",
                 "Ngày 20/2/2023, FLC bị hủy niêm yết bắt buộc trên HOSE"],
        "without": ["Tải ứng dụng"],
    },
    "vnexpress_article": {
        "with": ["Xung đột giữa Mỹ - Israel với Iran đã bước sang ngày thứ 6",
                 "Bộ Công Thương cũng kiến nghị Ngân hàng Nhà nước"],
        "without": ["Hà Thu (tổng hợp)"],
    },
    "vnexpress_fundus_2025-10-22": {
        "with": ["Ngày 22/10, BS.CK2 Cao Thị Hồng",
                 "Nội soi và tầm soát sức khỏe định kỳ giúp phát hiện sớm"],
        "without": ["Lê Phương"],
    },
    "vnexpress_htmldate_2023-11-02": {
        "with": ["Thông tin trên được Bộ trưởng Tài chính Hồ Đức Phớc chia sẻ",
                 "Khảo sát của VnExpress hồi đầu năm cũng cho thấy"],
        "without": [],
    },
}

# Lines that are page furniture wherever they appear as a paragraph of their own.
FURNITURE_LINES = {
    "chia sẻ", "bình luận", "tin liên quan", "bài liên quan", "xem thêm", "đọc thêm", "quảng cáo",
    "facebook", "zalo", "twitter", "email", "in bài", "theo dõi", "tải ứng dụng", "tin mới nhất",
}
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_DATE_LINE = re.compile(r"^\W*(?:\w+\W+){0,4}\d{1,2}[/-]\d{1,2}[/-]\d{4}(?:\W+\d{1,2}:\d{2})?\W*$")
_TAG_LINE = re.compile(r"^(?:từ khóa|từ khoá|tags?|thẻ)\s*:", re.IGNORECASE)


def _page_id(entry: dict) -> str:
    return entry["name"]


def extract_generic(html: bytes, url: str) -> dict:
    """The generic path, whatever site profiles exist."""
    return extract_with_profile(html, url, None)


@pytest.fixture(scope="module", params=MANIFEST, ids=_page_id)
def page(request) -> tuple[dict, dict]:
    entry = request.param
    html = gzip.decompress((TESTS / entry["file"]).read_bytes())
    return entry, extract_generic(html, entry["url"])


def expected_published(entry: dict) -> datetime:
    """The manifest's publication time; a value without offset is the site's zone, UTC+7."""
    if entry["name"] in VISIBLE_PUBLISHED:
        return VISIBLE_PUBLISHED[entry["name"]]
    # vietnamnet.vn writes "2026-03-07T08:52:11.000 +07:00": a space before the offset.
    value = datetime.fromisoformat(entry["published_meta"].replace(" ", ""))
    return value if value.tzinfo else value.replace(tzinfo=VIETNAM)


def paragraphs(record: dict) -> list[str]:
    return (record["body"] or "").split("\n\n")


def test_the_title_is_the_pages_own(page):
    entry, record = page
    assert record["title"] == entry["title"].strip()


def test_published_is_right_to_the_minute_with_its_offset(page):
    entry, record = page
    expected = expected_published(entry)
    published = datetime.fromisoformat(record["published"])
    assert published.utcoffset() == expected.utcoffset(), record["published"]
    assert published.replace(second=0) == expected.replace(second=0, microsecond=0)
    assert record["published_source"] in {"meta", "json-ld", "visible"}
    assert record["dates_disagree"] is False


def test_body_holds_the_article_and_none_of_the_furniture(page):
    entry, record = page
    snippets = SNIPPETS[_page_id(entry)]
    text = article_text(record)
    for sentence in snippets["with"]:
        assert sentence in text, sentence
    for line in snippets["without"]:
        assert line not in paragraphs(record), line


def test_no_noise_line_in_the_body(page):
    _, record = page
    for line in paragraphs(record):
        assert _LETTER_OR_DIGIT.search(line), f"punctuation-only line {line!r}"
        assert line.casefold().rstrip(" :.") not in FURNITURE_LINES, line
        assert not _DATE_LINE.match(line), f"date line {line!r}"
        assert not _TAG_LINE.match(line), f"tag line {line!r}"


def test_captions_lead_and_paragraphs_are_never_repeated(page):
    _, record = page
    body = paragraphs(record)
    assert len(body) == len(set(body)), "a paragraph appears twice"
    assert record["lead"] not in body
    for image in record["images"]:
        if image["caption"]:
            assert image["caption"] not in body, image["caption"]


def test_the_byline_is_not_left_at_the_end_of_the_body(page):
    _, record = page
    for author in record["authors"]:
        assert not paragraphs(record)[-1].startswith(author)


def test_every_page_gets_a_substantial_body_from_the_generic_path(page):
    _, record = page
    assert record["site"] is None and record["body_source"] == "generic"
    assert len(record["body"]) > 1000


def test_fundus_labelled_body_is_matched_with_f1_above_097():
    entry = next(e for e in MANIFEST if "fundus" in e["name"])
    html = gzip.decompress((TESTS / entry["file"]).read_bytes())
    expected = json.loads(
        (DATA / f"{entry['name']}.expected.json").read_text(encoding="utf-8")
    )["V1"]
    labelled = expected["body"]["summary"] + [
        paragraph for section in expected["body"]["sections"] for paragraph in section["paragraphs"]
    ]
    record = extract_generic(html, entry["url"])
    scores = score_pages([("\n\n".join(labelled), article_text(record))])
    assert scores.shingle_f1 >= 0.97
    assert scores.bow_f1 >= 0.97
    assert record["authors"] == expected["authors"]


def test_authors_are_people_not_the_publication(page):
    # Portals put their own name in <meta name=author> ("TUOI TRE ONLINE", "NLD.COM.VN").
    entry, record = page
    host = entry["url"].split("/")[2]
    for author in record["authors"]:
        assert "." not in author and author.casefold().replace(" ", "") not in host, author
        assert author.casefold() not in {"tuoi tre online", "vietnamnet news", "dân trí"}, author
