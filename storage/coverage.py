"""What the article store covers: articles per month, gaps, fill rates, failures by reason.

`coverage(store)` runs a few aggregate queries on the store (grouped in SQLite, so memory follows
the number of site-section-months, not of articles) and returns plain numbers that
``scrapy report --output DIR`` charts and writes as ``coverage.json``:

* per site, articles per month over the site's whole range of months (a month without an article
  is there with 0), in total and per section; articles without a publication date are counted apart
  (``undated``);
* gaps (`find_gaps`): a run of months without an article, in a site or in one of its sections,
  whose neighbouring months on both sides have many (at least `GAP_MIN_NEIGHBOUR` articles, and at
  least half the series' median month) - a hole in the crawl or the portal, not a quiet section;
* fill rates: per site, the share of articles with each field present (not null, not empty, not
  ``[]``);
* failed article URLs still waiting for another try (``failed_articles``), by spider and reason.

Months are the publication month as the page printed it (the first seven characters of the local
ISO 8601 ``published``), so an article published at 23:30 on 31 January in Hanoi counts in January.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from storage.articles import ArticleStore
from storage.backends import dialect_of

# A run of empty months is a gap only when the months on both sides have at least this many
# articles (and half the series' median): a section that publishes twice a year has no gaps.
GAP_MIN_NEIGHBOUR = 3

# Fields whose fill rate is reported; JSON list fields count as empty when ``[]``.
FILL_FIELDS: tuple[str, ...] = (
    "title", "lead", "body", "published", "modified", "authors", "credit", "section", "tags",
    "images", "language", "warc",
)
_LIST_FIELDS = frozenset({"authors", "tags", "images"})

# A publication month: the string starts with a 4-digit year, a dash and a 2-digit month.
_MONTH = "substr(published, 1, 7)"


def coverage(store: ArticleStore) -> dict:
    """Every number of the coverage report (see the module docstring), as JSON-ready values."""
    db = store._db  # same package: the store's own connection, read-only when opened so
    dated = dialect_of(db).starts_with_month("published")
    sites: dict[str, dict] = {}
    per_section: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for site, section, month, count in db.execute(
        f"SELECT site, COALESCE(section, ''), {_MONTH}, COUNT(*) FROM articles WHERE {dated} "
        "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    ):
        per_section[site][section][month] = count
    undated = dict(db.execute(
        f"SELECT site, COUNT(*) FROM articles WHERE NOT ({dated}) OR published IS NULL "
        "GROUP BY site"
    ).fetchall())
    rates = fill_rates(store)
    for site in sorted(set(per_section) | set(undated) | set(rates)):
        sections = per_section.get(site, {})
        months = month_range([m for counts in sections.values() for m in counts])
        totals = {month: sum(counts.get(month, 0) for counts in sections.values())
                  for month in months}
        section_series = {
            section or "(none)": {month: counts.get(month, 0) for month in months}
            for section, counts in sorted(sections.items())
        }
        gaps = [{"section": None, **gap} for gap in find_gaps(totals)]
        for section, series in section_series.items():
            gaps += [{"section": section, **gap} for gap in find_gaps(series)]
        sites[site] = {
            "articles": sum(totals.values()) + undated.get(site, 0),
            "undated": undated.get(site, 0),
            "first_month": months[0] if months else None,
            "last_month": months[-1] if months else None,
            "months": totals,
            "sections": section_series,
            "gaps": gaps,
            "fill_rates": rates.get(site, {}),
        }
    return {
        "articles": sum(site["articles"] for site in sites.values()),
        "sites": sites,
        "gaps": [{"site": site, **gap} for site, numbers in sites.items()
                 for gap in numbers["gaps"]],
        "failed_articles": failed_articles(store),
    }


def fill_rates(store: ArticleStore) -> dict[str, dict[str, float]]:
    """Per site, the share of its articles (0..1, 4 decimals) that have each of `FILL_FIELDS`."""
    present = ", ".join(
        f"SUM(CASE WHEN {field} IS NOT NULL AND {field} NOT IN ('', 'null'"
        f"{', ' + repr('[]') if field in _LIST_FIELDS else ''}) THEN 1 ELSE 0 END)"
        for field in FILL_FIELDS
    )
    rates = {}
    for row in store._db.execute(f"SELECT site, COUNT(*), {present} FROM articles GROUP BY site"):
        site, count, filled = row[0], row[1], row[2:]
        rates[site] = {field: round((n or 0) / count, 4)
                       for field, n in zip(FILL_FIELDS, filled, strict=True)}
    return rates


def failed_articles(store: ArticleStore) -> dict[str, dict[str, int]]:
    """Article URLs waiting for another try (``failed_articles``), per spider and reason."""
    failed: dict[str, dict[str, int]] = defaultdict(dict)
    for spider, reason, count in store._db.execute(
        "SELECT spider, reason, COUNT(*) FROM failed_articles GROUP BY 1, 2 ORDER BY 1, 2"
    ):
        failed[spider][reason] = count
    return dict(failed)


def month_range(months: list[str]) -> list[str]:
    """Every month (``YYYY-MM``) from the earliest to the latest of ``months``, in order."""
    if not months:
        return []
    first, last = min(months), max(months)
    year, month = int(first[:4]), int(first[5:7])
    every = []
    while (current := f"{year:04d}-{month:02d}") <= last:
        every.append(current)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return every


def find_gaps(series: dict[str, int]) -> list[dict]:
    """The gaps of one series of monthly counts (months in order, none missing).

    A gap is a run of months with no article whose neighbouring months, before and after, both
    have at least ``max(GAP_MIN_NEIGHBOUR, median / 2)`` articles; each of its months is listed
    with the counts of the two neighbours (``before``, ``after``). The first and last months have
    a neighbour on one side only and are never gaps: coverage starts and ends somewhere.
    """
    months = list(series)
    counts = [series[month] for month in months]
    if len(counts) < 3:
        return []
    many = max(GAP_MIN_NEIGHBOUR, statistics.median(counts) / 2)
    gaps = []
    start = None
    for index, count in enumerate(counts):
        if count == 0 and start is None:
            start = index
        if count != 0 and start is not None:
            before = counts[start - 1] if start > 0 else 0
            if before >= many and count >= many:
                gaps += [{"month": months[i], "before": before, "after": count}
                         for i in range(start, index)]
            start = None
    return gaps
