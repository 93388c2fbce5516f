"""Parse the publication dates that Vietnamese news portals print next to an article.

A portal's date element holds its label along with the date, in one of a few dozen shapes::

    Cập nhật lúc19:29, Thứ Tư, 12/02/2020 (GMT+7)
    Thứ hai, 12/8/2024, 07:30 (GMT+7)
    15:42 | 21/11/2023
    2026-03-07T08:52:11.000 +07:00

`parse_vietnamese_datetime` turns such text into a timezone-aware `ParsedDate`. Precompiled
regular expressions isolate the date and the time of day wherever they sit in the string (the
fast path, ~100,000 strings/s); only a string with no known shape goes to dateparser,
which returns None for whole lines like the first one above and manages ~700 strings/s.
`bench/bench_dates.py` measures both on the shapes the tests cover.

Time zones: an explicit marker (``GMT+7``, ``UTC+07:00``, an ISO 8601 offset, ``Z``) wins;
otherwise the wall-clock time is read in the zone the caller names (a site's zone,
``Asia/Ho_Chi_Minh`` by default), or, when the caller names none (``timezone=None``: a page of
unknown origin), kept as local time without an offset: an offset is never invented.

Beyond the Vietnamese shapes, month names in about fifteen languages are read
(``January 18, 2020``, ``9 oktober 2020``, ``15 de Abril de 2020``, ``24 сентября 2018``), as is
compact ISO 8601 (``20201123T11:02:35Z``); ``month_first`` reads ``11/8/2023`` as November 8
(English pages). A year before `MIN_YEAR` is refused: ``۱۳۹۹/۰۲/۲۱`` is a Solar Hijri date, not
the year 1399 of ours.

`is_date_line` tells the text cleaner that a short line is only a date / "updated at" line, so it
can be dropped from an article body.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from datetime import timezone as dt_timezone
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from crawler.parsing.spaces import single_spaced

if TYPE_CHECKING:
    from dateparser.date import DateDataParser

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"

# A date line longer than this is a sentence that mentions a date, not a date line.
DATE_LINE_MAX_WORDS = 12

_SPACE_RE = re.compile(r"\s+")

# An ISO 8601 date-time, as found in JSON-LD, <meta> and <time datetime>. Some CMSs put a space
# before the offset ("2026-03-07T08:52:11.000 +07:00"); fractions of a second are dropped.
_ISO_DATETIME_RE = re.compile(
    r"(?<!\d)(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d{1,9})?)?"
    r"(?:\s?(?P<offset>Z|[+\-−]\d{2}(?::?\d{2})?))?"
    r"(?![\d:])"
)

# Two-digit years up to this one are 20xx, later ones 19xx.
_SHORT_YEAR_PIVOT = 40
# Years before this are another calendar's (Solar Hijri 1399, Hijri 1441) or a typo, never a
# news article's.
MIN_YEAR = 1900

# Compact ISO 8601, as some JSON-LD writes it: 20201123T11:02:35Z, 20201123T110235+0100.
_COMPACT_ISO_RE = re.compile(
    r"(?<![0-9])(?P<year>[0-9]{4})(?P<month>[0-9]{2})(?P<day>[0-9]{2})"
    r"T(?P<hour>[0-9]{2}):?(?P<minute>[0-9]{2})(?::?(?P<second>[0-9]{2})(?:[.,][0-9]{1,9})?)?"
    r"(?P<offset>Z|[+\-−][0-9]{2}(?::?[0-9]{2})?)?(?![0-9])"
)

# Day-first dates with one separator used throughout: 12/02/2020, 12-2-2020, 12.02.2020.
_DMY_RE = re.compile(
    r"(?<!\d)(?P<day>\d{1,2})(?P<sep>[/.\-])(?P<month>\d{1,2})(?P=sep)(?P<year>\d{4})(?!\d)"
)
# Year-first dates: 2024-08-12, 2024/08/12.
_YMD_RE = re.compile(
    r"(?<!\d)(?P<year>\d{4})(?P<sep>[/.\-])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})(?!\d)"
)
# Dates spelled with words: "Ngày 5 tháng 6 năm 2023", "12 tháng 2, 2020".
_WORDED_DATE_RE = re.compile(
    r"(?<!\d)(?P<day>\d{1,2})\s*tháng\s*(?P<month>\d{1,2})\s*(?:,|năm)?\s*(?P<year>\d{4})(?!\d)",
    re.IGNORECASE,
)
# German-style dates with a two-digit year: 8.5.12, 02.12.19 (dots only: with slashes or dashes
# two-digit years are too often something else).
_DMY_SHORT_RE = re.compile(
    r"(?<![\d.])(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{2})(?![\d.])"
)
_DATE_PATTERNS = (_DMY_RE, _YMD_RE, _WORDED_DATE_RE, _DMY_SHORT_RE)

# Month names (and their usual abbreviations; genitive forms where a language writes dates so),
# casefolded, by month number. Languages: en, de, fr, es, pt, it, nl, sv/da/no, pl, cs, ru, tr,
# id/ms. A name means the same month in every language that has it ("mai", "juli", "mars").
MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("january", "jan", "januar", "jänner", "janvier", "janv", "enero", "ene", "janeiro",
        "gennaio", "gen", "januari", "stycznia", "ledna", "января", "ocak"),
    2: ("february", "feb", "februar", "février", "fevrier", "févr", "fevr", "febrero",
        "fevereiro", "fev", "febbraio", "februari", "lutego", "února", "февраля", "şubat"),
    3: ("march", "mar", "märz", "maerz", "mär", "mars", "marzo", "março", "marco", "maart",
        "marts", "marca", "března", "марта", "mart", "maret", "mac"),
    4: ("april", "apr", "avril", "avr", "abril", "abr", "aprile", "kwietnia", "dubna", "апреля",
        "nisan"),
    5: ("may", "mai", "mayo", "maio", "maggio", "mag", "mei", "maj", "maja", "května", "мая",
        "mayıs"),
    6: ("june", "jun", "juni", "juin", "junio", "junho", "giugno", "czerwca", "června", "июня",
        "haziran"),
    7: ("july", "jul", "juli", "juillet", "juil", "julio", "julho", "luglio", "lug", "lipca",
        "července", "июля", "temmuz", "julai"),
    8: ("august", "aug", "août", "aout", "agosto", "ago", "augustus", "augusti", "sierpnia",
        "srpna", "августа", "ağustos", "agustus", "ogos"),
    9: ("september", "sep", "sept", "septembre", "septiembre", "setiembre", "setembro", "set",
        "settembre", "września", "září", "сентября", "eylül"),
    10: ("october", "oct", "oktober", "okt", "octobre", "octubre", "outubro", "out", "ottobre",
         "ott", "października", "října", "октября", "ekim"),
    11: ("november", "nov", "novembre", "noviembre", "novembro", "listopada", "listopadu",
         "ноября", "kasım"),
    12: ("december", "dec", "dezember", "dez", "décembre", "decembre", "déc", "diciembre", "dic",
         "dezembro", "dicembre", "desember", "grudnia", "prosince", "декабря", "aralık",
         "disember"),
}
_MONTH_NUMBERS = {name: month for month, names in MONTH_NAMES.items() for name in names}
_MONTH_ALTERNATION = "|".join(
    re.escape(name) for name in sorted(_MONTH_NUMBERS, key=len, reverse=True)
)
_MONTH = rf"(?<![^\W\d_])(?P<month_name>{_MONTH_ALTERNATION})(?![^\W\d_])\.?"
# "9 oktober 2020", "15 de Abril de 2020", "29. Januar 2019", "19 NOV 2019", "18th November 2019".
_DAY_MONTH_NAME_RE = re.compile(
    r"(?<![0-9])(?P<day>[0-9]{1,2})(?:st|nd|rd|th|er|º)?\.?\s*(?:de\s+)?" + _MONTH
    + r",?\s*(?:de\s+)?(?P<year>[0-9]{4})(?![0-9])",
    re.IGNORECASE,
)
# "January 18, 2020", "Nov. 19, 2019", "November 18th, 2019", "Mai 06 2018".
_MONTH_NAME_DAY_RE = re.compile(
    _MONTH + r"\s*(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?(?![0-9]),?\s+(?P<year>[0-9]{4})(?![0-9])",
    re.IGNORECASE,
)
_NAMED_MONTH_PATTERNS = (_DAY_MONTH_NAME_RE, _MONTH_NAME_DAY_RE)
# Cheap pre-check: a named-month date has a run of letters and a four-digit year.
_FOUR_DIGITS_RE = re.compile(r"[0-9]{4}")

# Times of day: 19:29, 19:29:10, 7:05, 19h29. The lookbehind keeps "12:02" out of "2020:12:02".
_CLOCK_RE = re.compile(
    r"(?<![\d:])(?P<hour>\d{1,2})[:hH](?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,]\d{1,6})?)?(?![\d:])"
)
# Times spelled with words: "19 giờ 29 phút", "7 giờ".
_SPOKEN_TIME_RE = re.compile(
    r"(?<!\d)(?P<hour>\d{1,2})\s*(?:giờ|Giờ|GIỜ)(?:\s*(?P<minute>\d{1,2})(?:\s*(?:phút|Phút|PHÚT))?)?"
    r"(?![^\W\d_])"
)
# An hour alone with its 12-hour marker: "7 PM", "7 p.m.".
_BARE_HOUR_RE = re.compile(
    r"(?<![\d:])(?P<hour>\d{1,2})(?=\s*[ap]\.?m\.?(?![^\W\d_]))", re.IGNORECASE
)
# A 12-hour clock marker right after the time: AM/PM, the Vietnamese locale's SA/CH, or the part
# of the day in words ("7 giờ tối" is 19:00).
_MERIDIEM_RE = re.compile(
    r"\s*(?P<meridiem>[ap]\.?m\.?|sa|ch|sáng|trưa|chiều|tối)(?![^\W\d_])",
    re.IGNORECASE,
)
_PM_MARKERS = frozenset({"pm", "p.m", "p.m.", "pm.", "ch", "chiều", "tối"})
_AM_MARKERS = frozenset({"am", "a.m", "a.m.", "am.", "sa"})
# "1 giờ trưa" to "4 giờ trưa" are afternoon hours.
_LATEST_NOON_HOUR = 5
# The same markers as standalone words, for blanking them out of a date line.
_MERIDIEM_WORD_RE = re.compile(r"(?<![^\W\d_])(?:[ap]\.?m\.?|sa|ch)(?![^\W\d_])", re.IGNORECASE)

# "(GMT+7)", "GMT+07:00", "UTC+7": sets the offset of the date it accompanies. Case-sensitive so
# the regex engine can scan for the literal prefix: portals always write the capitals.
_OFFSET_MARKER_RE = re.compile(
    r"(?:GMT|UTC)\s*(?P<sign>[+\-−])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?(?!\d)"
)

# Other ways English-language pages name the zone of a time: a numeric offset right after the
# clock ("16:07:38 -0600", RFC 822), a bare "GMT"/"UTC", or a zone abbreviation ("07:47 PM EST").
# Ambiguous abbreviations (CST, IST) are left out: a wrong offset is worse than the site's zone.
_NUMERIC_OFFSET_RE = re.compile(
    r"(?<=\d:\d\d)\s*(?:[AaPp]\.?[Mm]\.?\s*)?(?P<sign>[+\-−])(?P<hours>\d{2}):?(?P<minutes>\d{2})(?!\d)"
)
_ZONE_ABBREVIATIONS = {
    "GMT": 0, "UTC": 0, "BST": 60, "CET": 60, "CEST": 120, "EET": 120, "EEST": 180,
    "EST": -300, "EDT": -240, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    "HST": -600, "AKST": -540, "AKDT": -480,
    "ICT": 420, "SGT": 480, "HKT": 480, "JST": 540, "KST": 540, "AEST": 600, "AEDT": 660,
}
_ZONE_ABBREVIATION_RE = re.compile(
    r"(?<![A-Za-z])(?P<name>" + "|".join(_ZONE_ABBREVIATIONS) + r")(?![A-Za-z])(?!\s*[+\-−]\s*\d)"
)

# dateparser is only worth asking about strings that name a year; without one it happily returns
# relative dates ("2 giờ trước") computed from today, which would be wrong on a re-parse.
_YEAR_RE = re.compile(r"(?<!\d)(?:1[89]|2\d)\d{2}(?!\d)")

# Labels, weekdays and other words that surround a date in a date element. Longer phrases come
# first so that "cập nhật lần cuối" wins over "cập nhật".
_DATE_LABEL_WORDS = (
    "cập nhật lần cuối",
    "cập nhật lúc",
    "cập nhật",
    "ngày đăng",
    "ngày cập nhật",
    "đăng lúc",
    "đăng ngày",
    "đăng",
    "xuất bản",
    "thời gian",
    "ngày",
    "lúc",
    "thứ hai",
    "thứ ba",
    "thứ tư",
    "thứ năm",
    "thứ sáu",
    "thứ bảy",
    "thứ bẩy",
    "thứ 2",
    "thứ 3",
    "thứ 4",
    "thứ 5",
    "thứ 6",
    "thứ 7",
    "chủ nhật",
    "cn",
    "t2",
    "t3",
    "t4",
    "t5",
    "t6",
    "t7",
    "last updated",
    "updated",
    "posted",
    "published",
    "on",
    "at",
    # Other languages' labels and weekdays, so that a date line of any page counts as one.
    "veröffentlicht am",
    "veröffentlicht",
    "aktualisiert am",
    "aktualisiert",
    "publié le",
    "publié",
    "mis à jour le",
    "publicado em",
    "publicado el",
    "publicado",
    "pubblicato il",
    "pubblicato",
    "gepubliceerd op",
    "am",
    "le",
    "el",
    "em",
    "il",
    "op",
    "um",
    "uhr",
    "by",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
    "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag",
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    "lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo",
    "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira",
    "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica",
)
# Lines that carry a date which is not the article's: a forum's or a portal's clock ("Aktuelle
# Zeit: …", "Hôm nay: …"), a member's registration. A date element holding one is skipped.
NOT_PUBLICATION_LABELS = (
    "aktuelle zeit",
    "current time",
    "it is currently",
    "es ist",
    "heute ist",
    "today is",
    "hôm nay",
    "date et heure actuelles",
    "ora attuale",
    "registriert",
    "joined",
    "member since",
    "mitglied seit",
    "letzter besuch",
    "last visit",
    "ngày tham gia",
)
# Words of a spelled time of day; blanked from date lines, but kept for dateparser to read.
_TIME_WORDS = ("giờ", "phút", "sáng", "trưa", "chiều", "tối")


def _word_regex(words: tuple[str, ...]) -> re.Pattern[str]:
    """Compile an alternation of whole words or phrases, case-insensitive."""
    alternatives = "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in words)
    return re.compile(rf"(?<![^\W\d_])(?:{alternatives})(?![^\W\d_])", re.IGNORECASE)


_DATE_LABEL_RE = _word_regex(_DATE_LABEL_WORDS)
_NOT_PUBLICATION_RE = _word_regex(NOT_PUBLICATION_LABELS)
_TIME_WORD_RE = _word_regex(_TIME_WORDS)
_FALLBACK_SEPARATOR_RE = re.compile(r"\s*[|•·]\s*|\s+[-–—]\s+")
_EDGE_PUNCTUATION_RE = re.compile(r"^[\W_]+|[\W_]+$")
_LETTER_OR_DIGIT_RE = re.compile(r"[^\W_]")
_DIGIT_RE = re.compile(r"\d")


@dataclass(frozen=True)
class ParsedDate:
    """A date read from a page: a timezone-aware value and whether the page gave a time of day.

    ``value`` is midnight in the applicable zone when ``has_time`` is False; `iso` then prints the
    date alone, because we never invent a time of day. ``value`` is naive (local time, no
    offset) when the text named no zone and the caller gave none. ``stated_offset`` is True when
    the text itself named the offset (``+07:00``, ``Z``, ``GMT+7``, ``EST``).
    """

    value: datetime
    has_time: bool
    source_text: str
    stated_offset: bool = False

    def iso(self) -> str:
        """Return ISO 8601: ``2020-02-12T19:29:00+07:00``, or ``2023-06-05`` without a time."""
        if self.has_time:
            return self.value.isoformat(timespec="seconds")
        return self.value.date().isoformat()


def parse_vietnamese_datetime(
    text: str, timezone: str | None = DEFAULT_TIMEZONE, *, fallback: bool = True,
    month_first: bool = False,
) -> ParsedDate | None:
    """Parse the text of a date element into a `ParsedDate`.

    ``timezone`` is the site's IANA zone, applied when the text carries no offset; None keeps
    such a time naive (local time, offset unknown). Returns None when no date (day, month and
    year) can be read, or when the date or time read is impossible (31/02/2020, 25:61, a year
    before `MIN_YEAR`): never raises on page text. ``fallback=False`` skips dateparser and
    answers from the precompiled shapes alone. ``month_first`` reads an ambiguous
    ``11/8/2023`` as November 8 (English-language pages); an unambiguous ``11/19/2019`` is
    read as what it can only be either way.
    """
    normalized = _normalize(text)
    if not normalized:
        return None
    try:
        parsed = _parse_known_shapes(normalized, timezone, month_first)
        if parsed is None and fallback:
            parsed = _parse_with_dateparser(normalized, timezone)
    except (ValueError, OverflowError):
        # Out-of-range day, month, hour or offset: a date the page got wrong is no date.
        return None
    if parsed is None:
        return None
    value, has_time, stated = parsed
    if value.year < MIN_YEAR:
        return None
    return ParsedDate(value=value, has_time=has_time, source_text=text, stated_offset=stated)


def names_no_publication(text: str) -> bool:
    """Whether ``text`` is labelled as a clock or a member's date ("Aktuelle Zeit: …")."""
    return _NOT_PUBLICATION_RE.search(text) is not None


def is_date_line(text: str) -> bool:
    """Return True when a short line holds a date and nothing but date labels around it.

    ``Cập nhật lúc19:29, Thứ Tư, 12/02/2020 (GMT+7)``, ``15:42 | 21/11/2023`` and
    ``Ngày đăng: 05/06/2023`` are date lines; ``Ngày 12/02/2020, tỉnh tổ chức hội nghị.`` is
    a sentence that happens to contain a date.
    """
    return is_normalized_date_line(_normalize(text))


def is_normalized_date_line(line: str) -> bool:
    """`is_date_line` for a line already normalised (NFC, single spaces, stripped)."""
    # Words are counted by their separators; every date shape has a digit, and most lines of
    # a body have none, so one scan for a digit answers them before the four date patterns.
    if not line or line.count(" ") >= DATE_LINE_MAX_WORDS or _DIGIT_RE.search(line) is None:
        return False
    match = _ISO_DATETIME_RE.search(line)
    found = _search_date(line) if match is None else None
    if match is None and found is None:
        return False
    rest = _blank(line, match) if match is not None else _blank_span(line, found.start, found.end)
    rest = _OFFSET_MARKER_RE.sub(" ", rest)
    rest = _CLOCK_RE.sub(" ", rest)
    rest = _SPOKEN_TIME_RE.sub(" ", rest)
    rest = _DATE_LABEL_RE.sub(" ", rest)
    rest = _TIME_WORD_RE.sub(" ", rest)
    rest = _MERIDIEM_WORD_RE.sub(" ", rest)
    return _LETTER_OR_DIGIT_RE.search(rest) is None


def _normalize(text: str) -> str:
    """Return NFC text with every whitespace run (NBSP included) turned into one space."""
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return single_spaced(text)


def _parse_known_shapes(
    text: str, zone_name: str | None, month_first: bool = False
) -> tuple[datetime, bool, bool] | None:
    """Read the date with the precompiled shapes; None when none of them is present.

    Returns (value, has a time of day, the text named the offset). Raises ValueError when a
    shape is present but names an impossible date or time.
    """
    iso = _ISO_DATETIME_RE.search(text)
    if iso is None and "T" in text:
        iso = _COMPACT_ISO_RE.search(text)
    if iso is not None:
        offset = iso.group("offset")
        stated = bool(offset)
        if offset:
            zone = _zone_from_iso_offset(offset)
        else:
            zone = _zone_from_marker(text)
            stated = zone is not None
            zone = zone or _site_zone(zone_name)
        year, month, day = map(int, iso.group("year", "month", "day"))
        clock = _checked_time(*iso.group("hour", "minute", "second"))
        return datetime(year, month, day, *clock, tzinfo=zone), True, stated

    named_zone = _find_zone(text)
    rest = _blank(text, named_zone[0]) if named_zone is not None else text
    found = _search_date(rest, month_first)
    if found is None:
        return None
    clock = _find_time(_blank_span(rest, found.start, found.end))
    zone = named_zone[1] if named_zone is not None else _site_zone(zone_name)
    hour, minute, second = clock[:3] if clock is not None else (0, 0, 0)
    # datetime() raises ValueError for 31/02, which the caller turns into None.
    value = datetime(found.year, found.month, found.day, hour, minute, second, tzinfo=zone)
    return value, clock is not None, named_zone is not None


def _parse_with_dateparser(
    text: str, zone_name: str | None
) -> tuple[datetime, bool, bool] | None:
    """Ask dateparser about a shape the regexes do not know, such as "12 Tháng Hai 2020".

    A time of day the regexes can read is cut out first and put back afterwards: dateparser gives
    up on "12 Tháng Hai 2020 lúc 7 giờ tối" but reads "12 Tháng Hai 2020".
    """
    if _YEAR_RE.search(text) is None:
        return None
    named_zone = _find_zone(text)
    rest = _blank(text, named_zone[0]) if named_zone is not None else text
    clock = _find_time(rest)
    if clock is not None:
        rest = f"{rest[: clock.start]} {rest[clock.end :]}"
    isolated = _isolate_for_dateparser(rest)
    if not isolated:
        return None
    result = _date_data_parser(zone_name).get_date_data(isolated).date_obj
    if result is None:
        return None
    zone = named_zone[1] if named_zone is not None else _site_zone(zone_name)
    if clock is not None:
        # Only the date came from dateparser, as wall-clock midnight in the site's zone.
        value = datetime(
            result.year,
            result.month,
            result.day,
            clock.hour,
            clock.minute,
            clock.second,
            tzinfo=zone,
        )
        return value, True, named_zone is not None
    if named_zone is not None:
        # The zone was cut out of the string, so dateparser read the wall-clock time only.
        value = result.replace(tzinfo=zone)
    elif zone is None:
        value = result.replace(tzinfo=None)
    else:
        value = result.astimezone(zone)
    return value, (value.hour, value.minute, value.second) != (0, 0, 0), named_zone is not None


def _isolate_for_dateparser(text: str) -> str:
    """Strip labels, weekdays and separators that make dateparser give up on a whole line."""
    isolated = _DATE_LABEL_RE.sub(
        lambda match: match.group(0) if match.group(0).casefold() == "ngày" else " ", text
    )
    isolated = _FALLBACK_SEPARATOR_RE.sub(" ", isolated)
    isolated = _EDGE_PUNCTUATION_RE.sub("", isolated)
    return _SPACE_RE.sub(" ", isolated).strip()


@lru_cache(maxsize=8)
def _date_data_parser(zone_name: str | None) -> DateDataParser:
    """Build (once per zone) the dateparser parser used for unknown shapes."""
    # Imported here: dateparser (with regex and pytz) costs ~0.15 s to import, and most
    # processes never meet a shape the regexes do not know.
    from dateparser.date import DateDataParser

    settings = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "past",
        "REQUIRE_PARTS": ["day", "month", "year"],
    }
    if zone_name is not None:
        settings.update(TIMEZONE=zone_name, RETURN_AS_TIMEZONE_AWARE=True)
    else:
        settings.update(RETURN_AS_TIMEZONE_AWARE=False)
    return DateDataParser(languages=["vi", "en"], settings=settings)


class _FoundDate(NamedTuple):
    """A day, month and year found in a string, and the span they occupy."""

    year: int
    month: int
    day: int
    start: int
    end: int


def _search_date(text: str, month_first: bool = False) -> _FoundDate | None:
    """Return the first date shape found in ``text``, trying the shapes in order.

    Numeric shapes first (the Vietnamese ones), then dates with a month name. With
    ``month_first`` a slash date is read month first (``11/8/2023``, ``11/19/2019``); a
    day-first reading is kept only where the first number cannot be a month.
    """
    for pattern in _DATE_PATTERNS:
        match = pattern.search(text)
        if match is not None:
            year, month, day = map(int, match.group("year", "month", "day"))
            if pattern is _DMY_SHORT_RE:
                year += 2000 if year <= _SHORT_YEAR_PIVOT else 1900
            if pattern is _DMY_RE and month_first and match.group("sep") == "/" and (
                day <= 12 or month > 12
            ):
                month, day = day, month
            return _FoundDate(year, month, day, match.start(), match.end())
    if _FOUR_DIGITS_RE.search(text) is None:
        return None
    best = None
    for pattern in _NAMED_MONTH_PATTERNS:
        match = pattern.search(text)
        if match is not None and (best is None or match.start() < best.start()):
            best = match
    if best is None:
        return None
    month = _MONTH_NUMBERS[best.group("month_name").casefold()]
    return _FoundDate(int(best.group("year")), month, int(best.group("day")), best.start(),
                      best.end())


class _TimeOfDay(NamedTuple):
    """A time of day found in a string, with the span it occupies (meridiem included)."""

    hour: int
    minute: int
    second: int
    start: int
    end: int


def _find_time(text: str) -> _TimeOfDay | None:
    """Return the first time of day in ``text``, or None.

    Raises ValueError for an impossible time such as 25:61.
    """
    clock = _CLOCK_RE.search(text)
    if clock is None:
        clock = _SPOKEN_TIME_RE.search(text)
    if clock is None:
        clock = _BARE_HOUR_RE.search(text)
    if clock is None:
        return None
    groups = clock.groupdict()
    hour, minute, second = _checked_time(
        clock.group("hour"), groups.get("minute"), groups.get("second")
    )
    end = clock.end()
    meridiem = _MERIDIEM_RE.match(text, end)
    if meridiem is not None:
        end = meridiem.end()
        hour = _apply_meridiem(hour, meridiem.group("meridiem").casefold())
    return _TimeOfDay(hour, minute, second, clock.start(), end)


def _apply_meridiem(hour: int, meridiem: str) -> int:
    """Convert a 12-hour clock hour to 24 hours; a 24-hour value (19 PM) is left alone."""
    if not 1 <= hour <= 12:
        return hour
    if meridiem in _PM_MARKERS:
        return hour + 12 if hour < 12 else hour
    if meridiem == "trưa":
        # Around noon: "12 giờ trưa" is 12:00, "1 giờ trưa" is 13:00, "11 giờ trưa" is 11:00.
        return hour + 12 if hour < _LATEST_NOON_HOUR else hour
    if meridiem in _AM_MARKERS and hour == 12:
        return 0
    return hour


def _checked_time(hour: str, minute: str | None, second: str | None) -> tuple[int, int, int]:
    """Convert time fields to ints, rejecting anything past 23:59:59."""
    values = (int(hour), int(minute or 0), int(second or 0))
    if values[0] > 23 or values[1] > 59 or values[2] > 59:
        raise ValueError(f"impossible time of day: {values}")
    return values


def _blank(text: str, match: re.Match[str]) -> str:
    """Return ``text`` with the matched span replaced by a space."""
    return _blank_span(text, match.start(), match.end())


def _blank_span(text: str, start: int, end: int) -> str:
    """Return ``text`` with ``text[start:end]`` replaced by a space."""
    return f"{text[:start]} {text[end:]}"


def _zone_from_marker(text: str) -> tzinfo | None:
    """Return the fixed offset named by a GMT/UTC marker in ``text``, if any."""
    marker = _OFFSET_MARKER_RE.search(text)
    return _zone_from_marker_match(marker) if marker is not None else None


def _find_zone(text: str) -> tuple[re.Match[str], tzinfo] | None:
    """Return the zone a date string names and where it names it, or None."""
    marker = _OFFSET_MARKER_RE.search(text)
    if marker is not None:
        return marker, _zone_from_marker_match(marker)
    numeric = _NUMERIC_OFFSET_RE.search(text)
    if numeric is not None:
        return numeric, _fixed_offset(*numeric.group("sign", "hours", "minutes"))
    named = _ZONE_ABBREVIATION_RE.search(text)
    if named is not None:
        minutes = _ZONE_ABBREVIATIONS[named.group("name")]
        return named, dt_timezone(timedelta(minutes=minutes))
    return None


def _zone_from_marker_match(marker: re.Match[str]) -> tzinfo:
    """Return the fixed offset of a matched GMT/UTC marker."""
    return _fixed_offset(marker.group("sign"), marker.group("hours"), marker.group("minutes"))


def _zone_from_iso_offset(offset: str) -> tzinfo:
    """Return the fixed offset of an ISO 8601 suffix (``Z``, ``+07:00``, ``+0700``, ``+07``)."""
    if offset == "Z":
        return dt_timezone.utc
    digits = offset[1:].replace(":", "")
    return _fixed_offset(offset[0], digits[:2], digits[2:] or None)


@lru_cache(maxsize=64)
def _fixed_offset(sign: str, hours: str, minutes: str | None) -> tzinfo:
    """Build a fixed-offset zone; raises ValueError past ±14:00 (no such zone exists)."""
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta > timedelta(hours=14):
        raise ValueError(f"impossible UTC offset: {sign}{hours}:{minutes or '00'}")
    return dt_timezone(-delta if sign in "-−" else delta)


@lru_cache(maxsize=32)
def _site_zone(zone_name: str | None) -> tzinfo | None:
    """Return the site's zone (None for none); an unknown name is a configuration error."""
    return ZoneInfo(zone_name) if zone_name is not None else None
