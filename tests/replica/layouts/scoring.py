"""Score stored article records against a layout's ground truth (tests and ``bench/``).

The figures issue 15 asks for: share of the layout's articles stored, body 4-shingle F1 (the
visible lead and body together, and the body alone), publication dates right to the minute with
their offset, authors right, noise lines (a stored paragraph that is not part of the article's
text: a caption printed twice, a byline, a share bar, a teaser), and pages stored that are not
articles at all.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tests.replica.layouts.common import Expected

_WORD = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[str]:
    """Lower-case words of ``text`` (NFC), punctuation left out."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


def shingle_f1(got: str, want: str, size: int = 4) -> float:
    """F1 of the multisets of ``size``-word shingles of two texts."""
    def shingles(text: str) -> Counter:
        words = tokens(text)
        return Counter(tuple(words[i:i + size]) for i in range(max(len(words) - size + 1, 0)))

    got_s, want_s = shingles(got), shingles(want)
    if not got_s or not want_s:
        return float(got_s == want_s)
    common = sum((got_s & want_s).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got_s.values()), common / sum(want_s.values())
    return 2 * precision * recall / (precision + recall)


def _key(text: str) -> str:
    return " ".join(tokens(text))


@dataclass
class Score:
    """What one crawl of a layout stored, measured against the layout's ground truth."""

    articles: int = 0
    stored: int = 0
    f1_text: float = 0.0
    f1_body: float = 0.0
    dates_right: int = 0
    authors_right: int = 0
    noise_lines: list[tuple[str, str]] = field(default_factory=list)
    not_articles: list[str] = field(default_factory=list)
    misses: dict[str, list[str]] = field(default_factory=dict)

    @property
    def stored_share(self) -> float:
        return self.stored / self.articles if self.articles else 0.0

    @property
    def dates_share(self) -> float:
        return self.dates_right / self.stored if self.stored else 0.0

    @property
    def authors_share(self) -> float:
        return self.authors_right / self.stored if self.stored else 0.0

    def line(self) -> str:
        """The figures on one line."""
        return (f"stored {self.stored}/{self.articles} ({self.stored_share:.1%}), F1 lead+body "
                f"{self.f1_text:.4f}, body {self.f1_body:.4f}, dates {self.dates_share:.1%}, "
                f"authors {self.authors_share:.1%}, noise lines {len(self.noise_lines)}, "
                f"non-articles stored {len(self.not_articles)}")


def score(records: list[dict], truth: list[Expected]) -> Score:
    """Compare stored ``records`` (article store rows) with ``truth``, by URL path and query."""
    def target(url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    by_target = {target(record["url"]): record for record in records}
    expected = {item.path: item for item in truth}
    result = Score(articles=len(truth))
    result.not_articles = sorted(path for path in by_target if path not in expected)
    f1_text, f1_body = [], []
    for path, item in expected.items():
        record = by_target.get(path)
        if record is None:
            result.misses.setdefault("not stored", []).append(path)
            continue
        result.stored += 1
        got_text = "\n\n".join(part for part in (record.get("lead"), record.get("body")) if part)
        f1_text.append(shingle_f1(got_text, item.text))
        f1_body.append(shingle_f1(record.get("body") or "", "\n\n".join(item.paragraphs)))
        if record.get("published") == item.published:
            result.dates_right += 1
        else:
            result.misses.setdefault("date", []).append(
                f"{path}: {record.get('published')} != {item.published}")
        if list(record.get("authors") or []) == list(item.authors):
            result.authors_right += 1
        else:
            result.misses.setdefault("authors", []).append(
                f"{path}: {record.get('authors')} != {list(item.authors)}")
        truth_key = _key(item.text)
        for line in got_text.split("\n\n"):
            if line.strip() and _key(line) not in truth_key:
                result.noise_lines.append((path, line))
    result.f1_text = sum(f1_text) / len(f1_text) if f1_text else 0.0
    result.f1_body = sum(f1_body) / len(f1_body) if f1_body else 0.0
    return result
