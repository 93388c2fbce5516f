"""Normalise article text and drop the layout noise that extraction leaves in a body.

What counts as noise is kept here as data: share bars (``Chia sẻ``, ``Facebook``, ``Zalo``),
advertising labels, related-article headings, tag lines, comment-form labels
(`noise.COMMENT_FORM_PREFIXES`), date lines (`dates.is_date_line`) and lines with no letter or
digit. `clean_paragraphs` applies those rules to a body and also drops
image captions and the lead when the page repeats them as paragraphs; `pop_byline` takes the
author signature off the end of the body (`bylines.parse_byline`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from crawler.parsing.bylines import (
    MAX_BYLINE_CHARS,
    Byline,
    may_have_credit,
    parse_byline,
    split_caption_credit,
)
from crawler.parsing.dates import is_normalized_date_line
from crawler.parsing.noise import COMMENT_FORM_PREFIXES, TRAILER_HEADINGS
from crawler.parsing.spaces import single_spaced

# Invisible characters that break word comparison and carry no text: zero-width space,
# zero-width (non-)joiners, word joiner, BOM, soft hyphen.
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_LETTER_OR_DIGIT_RE = re.compile(r"[^\W_]")


def _strip_trailing_punctuation(text: str) -> str:
    """Drop trailing non-alphanumerics; a `[\\W_]+$` regex would rescan every run in the line.

    ``str.isalnum`` is the same test as ``[^\\W_]`` (re's ``\\w`` is alphanumerics and ``_``).
    """
    end = len(text)
    while end and not text[end - 1].isalnum():
        end -= 1
    return text[:end]

# Words of share / print / comment bars; a line made only of these (and separators or counters,
# "Bình luận (3)") is a toolbar, not text. Longer phrases first.
SHARE_BAR_WORDS = (
    "chia sẻ bài viết",
    "chia sẻ",
    "sao chép liên kết",
    "copy link",
    "gửi email",
    "gửi bài",
    "in bài",
    "bình luận",
    "facebook",
    "zalo",
    "twitter",
    "tweet",
    "email",
    "share",
    "like",
    "thích",
    "lưu",
    "gửi",
    "in",
)
_SHARE_BAR_RE = re.compile(
    r"^(?:(?:"
    + "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in SHARE_BAR_WORDS)
    + r")(?![^\W\d_])[\s\d,.;:|/()+·•\-–]*)+$"
)

AD_LABELS = frozenset({"quảng cáo", "advertisement"})

# Noise lines are short: a share bar, a label or a heading longer than this is article text.
NOISE_LINE_MAX_CHARS = 120
# Enough of a line to recognise a tag line or a related link by its start.
_NOISE_PREFIX_CHARS = 64
# How much of the start of a long line is compared with the texts a body must not repeat.
_KEY_START_CHARS = 16

# Headings of "related articles" boxes that extraction pulls into the body.
RELATED_HEADINGS = frozenset(
    {
        "tin liên quan",
        "bài liên quan",
        "bài viết liên quan",
        "tin bài liên quan",
        "tin cùng chuyên mục",
        "bài cùng chuyên mục",
        "đọc thêm",
        "xem thêm",
        "tin khác",
        "các tin khác",
        "tin đọc nhiều",
        "đọc nhiều",
        "đọc nhiều nhất",
        "tin mới",
        "tin mới nhất",
        "có thể bạn quan tâm",
    }
)
# The same headings followed by a linked title ("Xem thêm: Nam Định khai mạc ..."), an inline
# link to another article rather than text of this one.
_RELATED_LINK_RE = re.compile(
    r"^(?:>>|»|>)?\s*(?:xem thêm|đọc thêm|tin liên quan|bài liên quan|tin cùng chuyên mục)"
    r"\s*(?::|>>|»)"
)
# Keyword lines under the body. Both spellings: NFC keeps "khóa" and "khoá" distinct.
_TAG_LINE_RE = re.compile(r"^(?:từ khóa|từ khoá|tags?|thẻ)\s*:")


def normalize_space(text: str) -> str:
    """Return NFC text with invisible characters removed and whitespace runs made one space.

    Every Unicode space counts (NBSP, thin and ideographic spaces, line breaks); zero-width
    characters and soft hyphens are deleted. The result is stripped.
    """
    # Called on every block of every page: each step is skipped when it would change nothing
    # (a dict-based `str.translate` alone costs more than the rest together).
    # The invisible characters are all format characters, which `str.isprintable` rejects.
    printable = text.isprintable()
    if not printable and _INVISIBLE_RE.search(text):
        text = _INVISIBLE_RE.sub("", text)
        printable = None
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
        printable = None
    # str.split() splits on exactly the characters str.isspace() knows, NBSP included.
    return single_spaced(text, printable)


def is_punctuation_only(text: str) -> bool:
    """Return True when the line has no letter or digit: ``,``, ``…``, ``»``, ``./.``, blank."""
    return _LETTER_OR_DIGIT_RE.search(text) is None


def is_noise_line(text: str) -> bool:
    """Return True for a line that is page furniture rather than article text.

    Punctuation-only lines, date lines, share bars, advertising labels, related-article headings
    and links, and keyword lines. A sentence that merely mentions Facebook or a date is kept.
    """
    line = normalize_space(text)
    folded = line.casefold()
    return _is_noise(line, folded, _strip_trailing_punctuation(folded))


def _is_noise(line: str, folded: str, key: str) -> bool:
    """`is_noise_line` for a line already passed through `normalize_space`.

    ``folded`` is the line case-folded, ``key`` its `_key`: the caller needs both again.
    """
    if is_punctuation_only(line):
        return True
    if key in AD_LABELS or key in RELATED_HEADINGS or key in TRAILER_HEADINGS:
        return True
    if _SHARE_BAR_RE.match(folded) or _TAG_LINE_RE.match(folded):
        return True
    if _RELATED_LINK_RE.match(folded) or folded.startswith(COMMENT_FORM_PREFIXES):
        return True
    return is_normalized_date_line(line)


def _is_long_line_noise(line: str) -> bool:
    """`_is_noise` for a line longer than `NOISE_LINE_MAX_CHARS`, without case-folding it all.

    Such a line is no toolbar, label or heading; it may still be punctuation (a row of dots), a
    tag line or a related link, which the rules recognise by its first characters.
    """
    if is_punctuation_only(line):
        return True
    prefix = line[:_NOISE_PREFIX_CHARS].casefold()
    if _TAG_LINE_RE.match(prefix) or _RELATED_LINK_RE.match(prefix):
        return True
    return is_normalized_date_line(line)


def text_key(text: str) -> str:
    """Return a key to compare two texts: normalised, case-folded, no trailing punctuation."""
    return _key(normalize_space(text))


def _key(line: str) -> str:
    """`text_key` of a line already passed through `normalize_space`."""
    return _strip_trailing_punctuation(line.casefold())


def clean_paragraphs(
    paragraphs: Iterable[str],
    *,
    captions: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> list[str]:
    """Return the article's paragraphs, normalised and without noise, in their original order.

    Drops empty and noise lines (`is_noise_line`), paragraphs that repeat an image caption
    (with or without its ``Ảnh: …`` credit, on either side), paragraphs equal to an ``exclude``
    text (such as the lead, which some pages repeat as the first paragraph) and consecutive
    duplicates.
    """
    dropped_keys: set[str] = set()
    for caption in captions:
        dropped_keys.update(_caption_keys(caption))
    dropped_keys.update(text_key(text) for text in exclude)
    dropped_keys.discard("")
    # Case-folding a whole paragraph costs more than the rest of its cleaning: a long line is
    # folded only when it starts as a dropped text does (folding works character by character,
    # so the start of the key is the folded start of the line).
    dropped_starts = {key[:_KEY_START_CHARS] for key in dropped_keys}

    cleaned: list[str] = []
    for paragraph in paragraphs:
        if not paragraph or paragraph.isspace():  # the gaps between tags, most blocks
            continue
        line = normalize_space(paragraph)
        if not line:
            continue
        if len(line) > NOISE_LINE_MAX_CHARS:
            if _is_long_line_noise(line):
                continue
            start = line[:_KEY_START_CHARS].casefold()[:_KEY_START_CHARS]
            key = _key(line) if start in dropped_starts else None
        else:
            folded = line.casefold()
            key = _strip_trailing_punctuation(folded)
            if _is_noise(line, folded, key):
                continue
        if dropped_keys and (
            key in dropped_keys
            or (may_have_credit(line) and not dropped_keys.isdisjoint(_caption_keys(line)))
        ):
            continue
        if cleaned and cleaned[-1] == line:
            continue
        cleaned.append(line)
    return cleaned


def pop_byline(paragraphs: list[str]) -> tuple[list[str], Byline | None]:
    """Take the author byline off the end of a cleaned body.

    The last paragraph may be any byline, names alone included ("Lam Hồng"). A prefixed or
    source byline may also sit just before it ("Tin, ảnh: Lam Hồng" then "Theo TTXVN"); both
    are then removed and merged into one `Byline`. Returns a new list (the argument is left
    as it was) and the byline, or None when the body ends with text.
    """
    remaining = list(paragraphs)
    if not remaining:
        return remaining, None
    last = _parse_cleaned_byline(remaining[-1], allow_bare_name=True)
    if last is None:
        return remaining, None
    remaining.pop()
    if remaining:
        previous = _parse_cleaned_byline(remaining[-1], allow_bare_name=False)
        if previous is not None:
            remaining.pop()
            return remaining, _merge_bylines(previous, last)
    return remaining, last


def _parse_cleaned_byline(line: str, *, allow_bare_name: bool) -> Byline | None:
    """`parse_byline` for a cleaned line, whose length is already the one it checks."""
    if len(line) > MAX_BYLINE_CHARS:  # a paragraph of text, not worth normalising again
        return None
    return parse_byline(line, allow_bare_name=allow_bare_name)


def _caption_keys(text: str) -> set[str]:
    """Return the keys of a caption with and without its photo credit."""
    caption, credit = split_caption_credit(text)
    keys = {text_key(text)}
    if credit is not None:
        keys.add(text_key(caption))
    keys.discard("")
    return keys


def _merge_bylines(first: Byline, second: Byline) -> Byline:
    """Merge two consecutive byline paragraphs into one `Byline`.

    A source-only line ("Theo TTXVN") contributes its source, not its credit, so that
    "Tin, ảnh: Lam Hồng" + "Theo TTXVN" keeps the credit "Tin, ảnh".
    """
    credits = [
        byline.credit
        for byline in (first, second)
        if byline.credit and not (byline.source and not byline.authors)
    ]
    if not credits:
        credits = [byline.credit for byline in (first, second) if byline.credit]
    sources = [byline.source for byline in (first, second) if byline.source]
    return Byline(
        authors=tuple(dict.fromkeys(first.authors + second.authors)),
        credit="; ".join(dict.fromkeys(credits)) or None,
        text=f"{first.text}\n{second.text}",
        source="/".join(dict.fromkeys(sources)) or None,
    )
