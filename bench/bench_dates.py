"""Time `parse_vietnamese_datetime` against plain dateparser on real date-element strings.

Run from the project root: ``python bench/bench_dates.py [--seconds 1.0]``. It uses the strings
of ``tests/test_crawler_parsing_dates.py`` (FORMAT_CASES: shapes the regexes know;
DATEPARSER_CASES: shapes left to dateparser) and prints strings per second for

- our fast path (``fallback=False``) and the full function on the known shapes,
- dateparser as the team measured it (``languages=['vi']``, ``DATE_ORDER='DMY'``) and with the
  settings our fallback uses, on the same strings: the baseline of the ratio,
- our function on the shapes that do go to dateparser,

plus how many of the strings each one read to the expected ISO value. Not a test: timings
depend on the machine, only the ratio within one run means something.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def strings_per_second(
    parse: Callable[[str], object], texts: Sequence[str], seconds: float
) -> float:
    """Parse ``texts`` over and over for at least ``seconds``; return strings parsed per second."""
    for text in texts:  # warm caches and lazy imports outside the timed loop
        parse(text)
    rounds = 0
    started = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds:
        for text in texts:
            parse(text)
        rounds += 1
        elapsed = time.perf_counter() - started
    return rounds * len(texts) / elapsed


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print one line per contender."""
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--seconds", type=float, default=1.0, help="time per contender")
    options = arguments.parse_args(argv)

    # Run as a script, the project root is not on sys.path.
    sys.path.insert(0, str(ROOT))
    import dateparser

    from crawler.parsing.dates import DEFAULT_TIMEZONE, parse_vietnamese_datetime
    from tests.test_crawler_parsing_dates import DATEPARSER_CASES, FORMAT_CASES

    team_settings = {"DATE_ORDER": "DMY"}
    fallback_settings = {
        "DATE_ORDER": "DMY",
        "TIMEZONE": DEFAULT_TIMEZONE,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "past",
        "REQUIRE_PARTS": ["day", "month", "year"],
    }

    def fast_path(text: str) -> str | None:
        parsed = parse_vietnamese_datetime(text, fallback=False)
        return parsed.iso() if parsed else None

    def full(text: str) -> str | None:
        parsed = parse_vietnamese_datetime(text)
        return parsed.iso() if parsed else None

    def dateparser_team(text: str) -> str | None:
        value = dateparser.parse(text, languages=["vi"], settings=team_settings)
        return value.isoformat(timespec="seconds") if value else None

    def dateparser_fallback_settings(text: str) -> str | None:
        value = dateparser.parse(text, languages=["vi", "en"], settings=fallback_settings)
        return value.isoformat(timespec="seconds") if value else None

    contenders = [
        ("regex fast path (fallback=False)", fast_path, FORMAT_CASES),
        ("parse_vietnamese_datetime", full, FORMAT_CASES),
        ("dateparser vi, DMY (baseline)", dateparser_team, FORMAT_CASES),
        ("dateparser vi+en, fallback settings", dateparser_fallback_settings, FORMAT_CASES),
        ("parse_vietnamese_datetime, dateparser shapes", full, DATEPARSER_CASES),
    ]
    print(
        f"{len(FORMAT_CASES)} known shapes, {len(DATEPARSER_CASES)} dateparser shapes, "
        f"{options.seconds:g} s per contender"
    )
    rates: dict[str, float] = {}
    for name, parse, cases in contenders:
        texts = [text for text, _expected in cases]
        correct = sum(parse(text) == expected for text, expected in cases)
        rates[name] = strings_per_second(parse, texts, options.seconds)
        print(f"{name:<46} {rates[name]:>12,.0f} strings/s   {correct}/{len(cases)} exact")
    baseline = rates["dateparser vi, DMY (baseline)"]
    for name in ("regex fast path (fallback=False)", "parse_vietnamese_datetime"):
        print(f"{name} / baseline: {rates[name] / baseline:,.0f}x")


if __name__ == "__main__":
    main()
