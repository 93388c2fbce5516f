"""Whether a crawl falls far below its site's usual: the flags of the job history.

Pure: a crawl's summary (``crawler.extensions.summary.summarize`` plus ``status``) and the
summaries of the site's earlier crawls (newest first) in, a list of one-line reasons out. The
crawl summary extension logs each as a WARNING and stores them in the job history
(``storage/jobs.py``), where ``scrapy jobs`` shows them. A crawl is flagged when:

* its outcome is ``failed`` or ``incomplete`` (a portal down, a listing or sitemap failing);
* it stored no new article, nor did the crawls before it, `NO_NEW_CRAWLS` crawls in a row over
  at least `NO_NEW_DAYS` days (three nights on a nightly schedule), while the site has had new
  articles before;
* a key field's fill rate (share of parsed articles with a title, body, date …) fell by more
  than ``margin`` (``SITECHECK_MARGIN``, 0.1 = 10 points) below its median over the earlier
  crawls (each side with at least `MIN_ARTICLES_FOR_RATES` articles parsed): a layout change;
* its failures (URLs failed and articles dropped) spike: more than `SPIKE_FACTOR` times the
  median of the earlier crawls and at least `SPIKE_MIN` more, or, with no earlier crawl, more than
  `FAILURE_SHARE` of the pages it fetched.
"""

from __future__ import annotations

from datetime import datetime
from statistics import median

NO_NEW_CRAWLS = 3
NO_NEW_DAYS = 2.0
MIN_ARTICLES_FOR_RATES = 5
SPIKE_FACTOR = 3.0
SPIKE_MIN = 5
FAILURE_SHARE = 0.2
# Earlier crawls that make a site's usual.
BASELINE = 10


def failures(summary: dict) -> int:
    """URLs that failed plus articles dropped: what a crawl lost."""
    return int(summary.get("failed_urls", 0)) + int(summary.get("articles_dropped", 0))


def flag_crawl(
    site: str, current: dict, earlier: list[dict], margin: float = 0.1,
) -> list[str]:
    """Why ``current`` falls far below the site's usual (``earlier``: newest first), or []."""
    earlier = [summary for summary in earlier[:BASELINE] if summary]
    flags = []
    status = current.get("status")
    if status in ("failed", "incomplete"):
        flags.append(f"{status}: {current.get('outcome') or 'see the crawl report'}")
    flags += _no_new_articles(current, earlier)
    flags += _fill_rate_drops(site, current, earlier, margin)
    flags += _failure_spike(current, earlier)
    return flags


def _no_new_articles(current: dict, earlier: list[dict]) -> list[str]:
    run = [current, *earlier[:NO_NEW_CRAWLS - 1]]
    if len(run) < NO_NEW_CRAWLS or any(s.get("articles_new", 0) for s in run):
        return []
    if not any(s.get("articles_new", 0) for s in earlier):
        return []  # never had any: a site that does not work at all is flagged otherwise
    first, last = _started(run[-1]), _started(current)
    if first and last and (last - first).total_seconds() < NO_NEW_DAYS * 86400:
        return []
    return [f"no new article in the last {NO_NEW_CRAWLS} crawls"]


def _rates(site: str, summary: dict) -> dict[str, float] | None:
    data = (summary.get("fill_rates") or {}).get(site)
    if not data or data.get("articles", 0) < MIN_ARTICLES_FOR_RATES:
        return None
    return data.get("rates") or {}


def _fill_rate_drops(
    site: str, current: dict, earlier: list[dict], margin: float
) -> list[str]:
    now = _rates(site, current)
    before = [rates for s in earlier if (rates := _rates(site, s)) is not None]
    if now is None or not before:
        return []
    drops = []
    for name, rate in now.items():
        usual = [rates[name] for rates in before if name in rates]
        if usual and median(usual) - rate > margin:
            drops.append(f"{name} {median(usual):.0%} -> {rate:.0%}")
    return [f"fill rate drop: {', '.join(drops)}"] if drops else []


def _failure_spike(current: dict, earlier: list[dict]) -> list[str]:
    lost = failures(current)
    if earlier:
        usual = median(failures(s) for s in earlier)
        if lost > SPIKE_FACTOR * usual and lost - usual >= SPIKE_MIN:
            return [f"failure spike: {lost} failed or dropped (usually {usual:g})"
                    + _reasons(current)]
        return []
    pages = int(current.get("pages_fetched", 0))
    if lost >= SPIKE_MIN and lost > FAILURE_SHARE * max(pages, 1):
        return [f"failure spike: {lost} failed or dropped of {pages} pages" + _reasons(current)]
    return []


def _reasons(summary: dict) -> str:
    counts = {**summary.get("failed_by_reason", {})}
    for reason, count in summary.get("dropped_by_reason", {}).items():
        counts[f"dropped/{reason}"] = counts.get(f"dropped/{reason}", 0) + count
    top = sorted(counts.items(), key=lambda item: -item[1])[:4]
    return f" ({', '.join(f'{k} {v}' for k, v in top)})" if top else ""


def _started(summary: dict) -> datetime | None:
    try:
        return datetime.fromisoformat(summary["started"])
    except (KeyError, TypeError, ValueError):
        return None
