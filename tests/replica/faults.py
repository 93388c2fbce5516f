"""Switchable faults of the replica portal: the ways small provincial servers misbehave.

A fault rule reads ``KIND[:RATE][@PATTERN]`` (``--fault`` on the command line, or a JSON list of
such strings POSTed to ``/__replica__/faults``): ``KIND`` is one of `KINDS`, ``RATE`` the share of
matching paths it hits (default 1), ``PATTERN`` a regular expression searched in the path (default:
article pages). Which paths a rule hits is decided by a hash of kind and path, so a rule hits the
same pages in every run and a crawl's outcome can be checked against `FaultPlan.expected`.

Transient faults (`TRANSIENT`) hit only the first `burst` requests of a path, then the real page is
served: a crawler that retries gets every page. Permanent faults hit every request.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

ARTICLE_PATHS = r"^/channel/\d+/\d{6}/"
LISTING_PATHS = r"^/channel/\d+/(page/\d+/)?$"

# kind -> what it does (the description doubles as the help text of --fault).
KINDS: dict[str, str] = {
    "500": "answer 500 Internal Server Error",
    "503": "answer 503 Service Unavailable with Retry-After: 1",
    "429": "answer 429 Too Many Requests with Retry-After: 1",
    "drop": "close the connection without answering",
    "slow": "answer only after `slow_seconds` (beyond a client's timeout)",
    "truncate": "send half the body, short of its Content-Length, then close",
    "cp1258": "serve the page encoded in windows-1258, declared so",
    "latin1-label": "serve UTF-8 bytes declared as charset=iso-8859-1 (no <meta charset>)",
    "malformed": "serve the page with unclosed tags and stray end tags",
    "redirect": "redirect through a chain of 3 hops to the page (with ?r=3)",
    "redirect-loop": "redirect endlessly (?loop=1, ?loop=2, …)",
    "offsite": "redirect to another domain (http://offsite.invalid/…)",
    "huge": "serve a 50 MB page",
    "gzip-bomb": "serve a small gzip body that inflates to 64 MB",
    "trap": "listing pages never end: past the last one, a page links to one more",
    "entity-bomb": "list an extra sitemap holding an XML entity bomb in the sitemap index",
    "gzip-sitemaps": "list the monthly sitemaps as .xml.gz files, served gzip-compressed as "
                     "application/x-gzip (or application/gzip) without Content-Encoding",
    "layout-drift": "serve articles from a redesign: the body container's class and id renamed",
}
TRANSIENT = frozenset({"500", "503", "429", "drop", "slow", "truncate"})
# Faults that change the site as a whole rather than the answer for some paths.
SITE_WIDE = frozenset({"trap", "entity-bomb", "gzip-sitemaps"})
DEFAULT_PATTERNS = {"trap": LISTING_PATHS, "entity-bomb": r"^/sitemap"}


@dataclass(frozen=True)
class FaultRule:
    """One switched-on fault: its kind, the share of paths it hits and which paths may be hit."""

    kind: str
    rate: float = 1.0
    pattern: str = ARTICLE_PATHS

    @classmethod
    def parse(cls, spec: str) -> FaultRule:
        """Parse ``KIND[:RATE][@PATTERN]``."""
        head, _, pattern = spec.partition("@")
        kind, _, rate = head.partition(":")
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(KINDS)}")
        value = float(rate) if rate else 1.0
        if not 0 <= value <= 1:
            raise ValueError(f"fault rate must be within 0..1: {spec!r}")
        re.compile(pattern)
        return cls(kind, value, pattern or DEFAULT_PATTERNS.get(kind, ARTICLE_PATHS))

    def hits(self, path: str) -> bool:
        """Whether this rule applies to ``path`` (the same answer every time)."""
        if not re.search(self.pattern, path):
            return False
        if self.rate >= 1:
            return True
        digest = hashlib.sha1(f"{self.kind} {path}".encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < self.rate

    def __str__(self) -> str:
        return f"{self.kind}:{self.rate:g}@{self.pattern}"


@dataclass
class FaultPlan:
    """Every switched-on fault rule, and the settings shared by them."""

    rules: list[FaultRule] = field(default_factory=list)
    burst: int = 2
    slow_seconds: float = 3.0

    @classmethod
    def parse(cls, specs: list[str], burst: int = 2, slow_seconds: float = 3.0) -> FaultPlan:
        """Build a plan from rule strings."""
        return cls([FaultRule.parse(spec) for spec in specs], burst, slow_seconds)

    def fault_for(self, path: str, attempt: int) -> str | None:
        """The fault to serve for the ``attempt``-th request (1-based) of ``path``, or None."""
        for rule in self.rules:
            if rule.kind in SITE_WIDE or not rule.hits(path):
                continue
            if rule.kind in TRANSIENT and attempt > self.burst:
                continue
            return rule.kind
        return None

    def enabled(self, kind: str) -> bool:
        """Whether a site-wide fault (`SITE_WIDE`) is on."""
        return any(rule.kind == kind and rule.rate > 0 for rule in self.rules)

    def expected(self, paths: list[str]) -> dict[str, str]:
        """Paths a crawler can never get right (permanent refusals), with the fault hitting each."""
        lost = {"redirect-loop", "offsite", "huge", "gzip-bomb"}
        outcome = {}
        for path in paths:
            for rule in self.rules:
                # Transient faults pass after `burst` requests; the next rule then decides.
                if rule.kind in {*SITE_WIDE, *TRANSIENT} or not rule.hits(path):
                    continue
                if rule.kind in lost:
                    outcome[path] = rule.kind
                break
        return outcome

    def describe(self) -> dict[str, object]:
        """The plan as JSON-ready data (the ``/__replica__/faults`` answer)."""
        return {
            "rules": [str(rule) for rule in self.rules],
            "burst": self.burst,
            "slow_seconds": self.slow_seconds,
        }


# The article body container before and after the simulated redesign (a drift alarm must notice).
BODY_CONTAINER = '<div class="detail-content" id="contentdetail">'
DRIFTED_BODY_CONTAINER = '<div class="article-body" id="bodytext">'


def layout_drift(html: str) -> str:
    """Rename the article body's container, as a portal's redesign does."""
    return html.replace(BODY_CONTAINER, DRIFTED_BODY_CONTAINER, 1)


def malformed(html: str) -> str:
    """Break the markup the way hand-edited CMS pages do: unclosed and stray tags."""
    return (
        html.replace("</p>", "", 3)
        .replace("<body>", "<body></span></div><b>", 1)
        .replace("</html>", "<div><p>")
    )


# Grave, acute, tilde, hook above, dot below: the five Vietnamese tones, combining in cp1258.
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")


def encode_cp1258(text: str) -> bytes:
    """Encode Vietnamese text in windows-1258, whose tone marks are combining characters.

    The code page holds the base letters (â, ê, ô, ơ, ư, ă, đ) and five combining tone marks but
    few toned letters, so a letter like ế is written as ê followed by the combining acute accent.
    """
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", char)
        tones = "".join(mark for mark in decomposed if mark in _TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(m for m in decomposed if m not in _TONE_MARKS))
        try:
            out += (base + tones).encode("cp1258")
        except UnicodeEncodeError:
            out += f"&#{ord(char)};".encode("ascii")
    return bytes(out)


def entity_bomb() -> bytes:
    """A sitemap whose DTD defines the "billion laughs" entity expansion.

    A 70 KB comment comes first, as it would to slip the DOCTYPE past a scan of the first 64 KB.
    """
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<!-- {'padding ' * 8750}-->\n"
        "<!DOCTYPE urlset [\n"
        + "\n".join(entities)
        + "\n]>\n"
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>&lol9;</loc></url></urlset>\n"
    ).encode("ascii")
