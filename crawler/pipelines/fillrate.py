"""Count, per site, how many parsed articles have each key field: the crawl's fill rates.

A field counts as filled when the article has it and the site profile's own selectors found it
(a title or body the generic path had to supply, listed in the record's ``fallback``, does not
count): a layout change then shows as a falling rate. Stats: ``fields/<site>/articles`` (articles
parsed) and ``fields/<site>/<field>`` (articles with the field), read by the crawl summary
(``crawler/extensions/summary.py``) and compared by ``scrapy sitecheck``. It runs before the
validation pipeline, so articles later dropped for a missing field are counted too.

No settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# The fields whose fill rates a maintainer watches (the Article record's names).
FILL_FIELDS = ("title", "body", "published", "authors", "images")


def filled_fields(record: Mapping) -> list[str]:
    """The `FILL_FIELDS` a record has, found by its profile (not by the generic fallback)."""
    fallback = set(record.get("fallback") or ())
    return [name for name in FILL_FIELDS if record.get(name) and name not in fallback]


def fill_rates(records: Iterable[Mapping]) -> tuple[int, dict[str, float]]:
    """(article count, share of the articles having each field) over ``records``."""
    counts = dict.fromkeys(FILL_FIELDS, 0)
    total = 0
    for record in records:
        total += 1
        for name in filled_fields(record):
            counts[name] += 1
    return total, {name: (count / total if total else 0.0) for name, count in counts.items()}


def rates_from_stats(stats: Mapping[str, int]) -> dict[str, dict]:
    """Per site: ``{"articles": n, "rates": {field: share}}`` from ``fields/<site>/…`` stats."""
    sites: dict[str, dict] = {}
    for key, value in stats.items():
        prefix, _, rest = key.partition("/")
        site, _, name = rest.rpartition("/")
        if prefix != "fields" or not site:
            continue
        sites.setdefault(site, {"articles": 0, "counts": {}})
        if name == "articles":
            sites[site]["articles"] = value
        else:
            sites[site]["counts"][name] = value
    return {
        site: {
            "articles": data["articles"],
            "rates": {
                name: round(data["counts"].get(name, 0) / data["articles"], 4)
                if data["articles"] else 0.0
                for name in FILL_FIELDS
            },
        }
        for site, data in sorted(sites.items())
    }


class FillRatePipeline:
    """Count the filled fields of every parsed article in the crawl stats."""

    def __init__(self, stats) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item):
        site = item.get("site") or "unknown"
        self.stats.inc_value(f"fields/{site}/articles")
        for name in filled_fields(item):
            self.stats.inc_value(f"fields/{site}/{name}")
        return item
