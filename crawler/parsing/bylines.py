"""Recognise author bylines and photo credits in the text of Vietnamese news articles.

Provincial portals rarely mark up their authors; the byline is a paragraph of the body, usually
the last one, in one of these forms:

- a credit prefix and names: ``Tin, ảnh: Lam Hồng``, ``Bài và ảnh: Viết Dư - Thanh Thúy``;
- a source: ``Theo TTXVN``, ``(Theo VOV)``, ``Nguồn: Báo Nhân Dân``;
- the staff signature ``PV`` / ``Nhóm PV`` (optionally with a parenthesis: ``PV (tổng hợp)``);
- names alone, optionally with an affiliation: ``Minh Thu``, ``Hoàng Anh (CTV)``,
  ``Minh Thu (tổng hợp)``.

`parse_byline` reads one paragraph into a `Byline`, or returns None for anything that reads like
a sentence. Names alone are indistinguishable from a short heading, so they are accepted only when
the caller says the paragraph is where a signature goes (``allow_bare_name``), unless a staff mark
signs them (``Hoàng Anh (CTV)``).

`split_caption_credit` separates the photo credit from an image caption
(``... tại hội nghị. Ảnh: Viết Dư``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from crawler.parsing.spaces import single_spaced

# Longest names we accept: Vietnamese full names have 2-4 words; 5 leaves room for "Nhóm PV ...".
MAX_NAME_WORDS = 5
# A byline is one short line; anything longer is body text.
MAX_BYLINE_CHARS = 160

_SPACE_RE = re.compile(r"\s+")

# What a credit prefix may say the people did, joined by ",", "và", "+", "&", "/" or "-".
_CREDIT_WORDS = (
    "bài viết",
    "bài",
    "tin",
    "ảnh",
    "video",
    "clip",
    "đồ họa",
    "đồ hoạ",
    "infographic",
    "thực hiện",
    "nội dung",
    "thiết kế",
    "trình bày",
)
_CREDIT_WORD = "(?:" + "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in _CREDIT_WORDS)
_CREDIT_WORD += r")(?![^\W\d_])"
_PREFIXED_RE = re.compile(
    rf"^(?P<credit>{_CREDIT_WORD}(?:(?:\s*[,+&/\-–]\s*|\s+và\s+|\s+){_CREDIT_WORD})*)"
    r"\s*:\s*(?P<names>.+)$",
    re.IGNORECASE,
)

# "Theo TTXVN", "(Theo VOV)", "Nguồn: Báo Nhân Dân". A comma or colon after the source means a
# sentence ("Theo kế hoạch, ...").
_SOURCE_RE = re.compile(
    r"^(?P<label>Theo|Nguồn)\s*:?\s+(?P<source>[^,;:()]+?)\s*\.?$",
    re.IGNORECASE,
)
MAX_SOURCE_WORDS = 8
# Lower-case words that may open a source name ("Theo báo Nhân Dân").
_SOURCE_LEADING_WORDS = frozenset(
    {"báo", "tạp", "đài", "cổng", "trang", "tờ", "kênh", "website", "thông", "tổng"}
)

# The staff signature: "PV", "Nhóm PV", "Nhóm phóng viên", "CTV", "BTV".
_STAFF_RE = re.compile(
    r"^(?:nhóm\s+)?(?:pv|ctv|btv|phóng\s+viên|cộng\s+tác\s+viên|biên\s+tập\s+viên)$",
    re.IGNORECASE,
)

# A trailing parenthesis: the affiliation in "Hoàng Anh (CTV)", "Minh Thu (tổng hợp)".
_TRAILING_PAREN_RE = re.compile(r"^(?P<core>[^()]+?)\s*\((?P<paren>[^()]{1,60})\)$")

# Separators between several names after the prefix: " - ", " – ", ", ", " và ", ";", "/", "&".
_NAME_SEPARATOR_RE = re.compile(r"\s+[-–—]\s+|\s*[,;/&]\s*|\s+và\s+", re.IGNORECASE)
# One word of a name: letters only, capitalised; a trailing dot allows initials ("Ng. Lan").
_NAME_WORD_RE = re.compile(r"[^\W\d_]+(?:\.[^\W\d_]+)*\.?")
_SENTENCE_END_RE = re.compile(r"[.!?…:;]$")

# A short capitalised phrase starting with one of these is a place, an office or a title, not a
# person ("Hà Nội", "Tỉnh ủy Nam Định", "Đồng chí Trần Văn Chung").
_NOT_A_NAME_PREFIXES = (
    "ảnh",
    "video",
    "clip",
    "tin",
    "bài",
    "theo",
    "nguồn",
    "đồng chí",
    "ông",
    "bà",
    "chủ tịch",
    "bí thư",
    "phó",
    "tổng",
    "thủ tướng",
    "bộ",
    "sở",
    "ban",
    "ủy ban",
    "uỷ ban",
    "ubnd",
    "hđnd",
    "tỉnh",
    "huyện",
    "xã",
    "phường",
    "quận",
    "thị xã",
    "thị trấn",
    "thành phố",
    "tp",
    "báo",
    "đài",
    "trung tâm",
    "công an",
    "hội",
    "đảng",
    "mặt trận",
    "hà nội",
    "việt nam",
)
# Each with the space that must follow it: a prefix is made of whole words of the name.
_NOT_A_NAME_STARTS = tuple(prefix + " " for prefix in _NOT_A_NAME_PREFIXES)

# Photo credit at the end of a caption: "... hội nghị. Ảnh: Viết Dư", "... (Ảnh: TTXVN)",
# "... - Ảnh: Thanh Thúy". The label is matched case-sensitively: a capital "Ảnh" after a
# caption is a credit, a lower-case "ảnh" belongs to the sentence ("hình ảnh: ...").
_CREDIT_LABELS = (
    "Ảnh minh họa", "Ảnh minh hoạ", "Ảnh tư liệu", "Ảnh", "ẢNH", "Nguồn ảnh", "Nguồn", "Video",
    "Clip",
)
# The credit and what separates it from the caption; the caption is what comes before.
_CAPTION_CREDIT_RE = re.compile(
    r"[\s\-–—|]*\(?\s*(?<![^\W\d_])(?:" + "|".join(_CREDIT_LABELS) + r")"
    r"\s*:\s*(?P<credit>[^():]{1,80}?)\s*\)?[\s.]*$",
)
# What may precede a credit's label (`_credit_search_start`).
_BEFORE_LABEL_CHARS = frozenset(" -–—|(")
_LONGEST_LABEL = max(map(len, _CREDIT_LABELS))
MAX_CREDIT_WORDS = 8
# The label of a credit, looked for in the end of a text before the full pattern runs: the lazy
# caption group of `_CAPTION_CREDIT_RE` costs tens of microseconds on every long paragraph.
_CREDIT_LABEL_RE = re.compile(r"(?:Ảnh|ẢNH|Nguồn|Video|Clip)[^:]{0,12}:")
_CREDIT_TAIL_CHARS = 120


@dataclass(frozen=True)
class Byline:
    """A byline read from an article.

    ``authors`` are people (or the staff signature "PV"), never news agencies; ``credit`` is what
    the page says they did ("Tin, ảnh"), their affiliation ("CTV"), or for a source line the
    whole attribution ("Theo TTXVN"); ``source`` is the agency or paper named by a source line
    ("TTXVN"); ``text`` is the line(s) as found, so nothing is lost when a heuristic is wrong.
    """

    authors: tuple[str, ...]
    credit: str | None
    text: str
    source: str | None = None


def parse_byline(text: str, *, allow_bare_name: bool = True) -> Byline | None:
    """Read one paragraph as a byline; return None when it is not one.

    ``allow_bare_name`` lets names without a credit prefix ("Minh Thu", "Hoàng Anh (CTV)")
    through; pass it only for the paragraph where a signature is expected (the last one).
    """
    found = _normalize(text)
    if not found or len(found) > MAX_BYLINE_CHARS:
        return None
    line = found
    if line.startswith("(") and line.endswith(")") and line.count("(") == 1:
        line = line[1:-1].strip()

    prefixed = _PREFIXED_RE.match(line)
    if prefixed is not None:
        names = prefixed.group("names").strip().rstrip(".").strip()
        people, agencies = _split_names(names, bare=False)
        if not people and not agencies:
            return None
        credit = _SPACE_RE.sub(" ", prefixed.group("credit"))
        return Byline(authors=people, credit=credit, text=found, source=_join(agencies))

    source = _SOURCE_RE.match(line)
    if source is not None:
        return _source_byline(found, source)

    core, paren = _split_trailing_paren(line)
    if _STAFF_RE.match(core):
        return Byline(authors=(_SPACE_RE.sub(" ", core),), credit=paren, text=found)

    # A staff mark in the parenthesis ("Hoàng Anh (CTV)") signs the line as well as a prefix.
    signed = paren is not None and _STAFF_RE.match(paren) is not None
    if not (allow_bare_name or signed) or _SENTENCE_END_RE.search(core):
        return None
    people, agencies = _split_names(core, bare=True)
    if not people and not agencies:
        return None
    if not people:
        # An agency signing alone ("TTXVN") is a source line without the word "Theo".
        return Byline(authors=(), credit=line, text=found, source=_join(agencies))
    return Byline(authors=people, credit=paren, text=found, source=_join(agencies))


def split_caption_credit(text: str) -> tuple[str, str | None]:
    """Split an image caption into (caption, photo credit or None).

    ``Đồng chí X phát biểu. Ảnh: Viết Dư`` gives ``("Đồng chí X phát biểu.", "Viết Dư")``;
    a caption without a credit comes back whole, with None.
    """
    caption = _normalize(text)
    if not may_have_credit(caption):
        return caption, None
    match = _CAPTION_CREDIT_RE.search(caption, _credit_search_start(caption))
    if match is None:
        return caption, None
    credit = match.group("credit").strip()
    if not credit or len(credit.split()) > MAX_CREDIT_WORDS:
        return caption, None
    return caption[: match.start()].strip(), credit


def _credit_search_start(caption: str) -> int:
    """A position at or before the first one where `_CAPTION_CREDIT_RE` matches in ``caption``.

    Searching from the start of a long caption tries the pattern at every character. A credit
    holds no colon, so its label ends just before the caption's last colon (one space at most
    between them in a normalised text); the separators before the label are skipped back over.
    """
    start = max(0, caption.rfind(":") - _LONGEST_LABEL - 1)
    while start and (caption[start - 1] in _BEFORE_LABEL_CHARS or caption[start - 1].isspace()):
        start -= 1
    return start


def may_have_credit(text: str) -> bool:
    """Whether the end of ``text`` holds a credit label ("Ảnh:", "Nguồn:"): a cheap pre-check."""
    start = max(0, len(text) - _CREDIT_TAIL_CHARS)
    # Most paragraphs end without a colon: finding none is far cheaper than the regex.
    return text.find(":", start) != -1 and _CREDIT_LABEL_RE.search(text, start) is not None


def _normalize(text: str) -> str:
    """Return NFC text with every whitespace run (NBSP included) turned into one space."""
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return single_spaced(text)


def _split_names(names: str, *, bare: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split a list of signatures into (people, agencies); ((), ()) when it is not one.

    A single all-capital word ("TTXVN", "VOV") is an agency, not a person. After a credit prefix
    (``bare=False``) only the first piece must be a signature: later pieces that are not
    ("Lam Hồng, phóng viên thường trú") are left out, because the prefix already says this is a
    byline. Standing alone (``bare=True``) every piece must be a plausible name.
    """
    people: list[str] = []
    agencies: list[str] = []
    for position, piece in enumerate(_NAME_SEPARATOR_RE.split(names)):
        core, _affiliation = _split_trailing_paren(piece.strip())
        name = _SPACE_RE.sub(" ", core)
        if _is_agency(name):
            agencies.append(name)
        elif _is_bare_name(name) if bare else _is_name(name):
            people.append(name)
        elif bare or position == 0:
            return (), ()
    return tuple(dict.fromkeys(people)), tuple(dict.fromkeys(agencies))


def _join(agencies: tuple[str, ...]) -> str | None:
    """Return the agencies as one source string, or None when there are none."""
    return "/".join(agencies) or None


def _source_byline(text: str, match: re.Match[str]) -> Byline | None:
    """Build the byline of a source line ("Theo TTXVN"), or None if it reads like a sentence."""
    source = match.group("source").strip()
    words = source.split()
    if not words or len(words) > MAX_SOURCE_WORDS:
        return None
    if not (words[0][0].isupper() or words[0].casefold() in _SOURCE_LEADING_WORDS):
        return None
    credit = match.string[: match.start("source")] + source
    return Byline(authors=(), credit=credit, text=text, source=source)


def _split_trailing_paren(text: str) -> tuple[str, str | None]:
    """Split "Hoàng Anh (CTV)" into ("Hoàng Anh", "CTV"); other text comes back unchanged."""
    match = _TRAILING_PAREN_RE.match(text)
    if match is None:
        return text, None
    return match.group("core").strip(), match.group("paren").strip()


def _is_name(text: str) -> bool:
    """Return True for 1-5 capitalised words made of letters (initials may end with a dot)."""
    words = text.split()
    if not 1 <= len(words) <= MAX_NAME_WORDS:
        return False
    return all(_NAME_WORD_RE.fullmatch(word) and word[0].isupper() for word in words)


def _is_agency(text: str) -> bool:
    """Return True for one all-capital word such as "TTXVN" or "VOV" (staff marks excepted)."""
    return (
        " " not in text
        and 2 <= len(text) <= 10
        and text.isupper()
        and text.isalpha()
        and not _STAFF_RE.match(text)
    )


def _is_bare_name(text: str) -> bool:
    """Return True when text standing alone is plausibly a person's name.

    Stricter than `_is_name`: two words at least, no final dot, and not a place, office or title
    ("Hà Nội", "Đồng chí Trần Văn Chung").
    """
    if not _is_name(text) or text.endswith(".") or len(text.split()) < 2:
        return False
    return not (text.casefold() + " ").startswith(_NOT_A_NAME_STARTS)
