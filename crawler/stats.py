"""The crawl's stats collector: Scrapy's ``MemoryStatsCollector`` without a wrapper per access.

Scrapy (2.13 on) sends every attribute access of a stats collector through a
``__getattribute__`` that looks for a cached wrapper first (an ``AttributeError`` raised and
caught for every plain attribute, ``_stats`` included) and wraps the public methods to warn
about their deprecated ``spider`` argument. A crawl counts a dozen things per page, so this
costs ~2% of its CPU (``docs/scale.md``). Our components never pass ``spider``; this collector
is Scrapy's with plain attribute access. The values and ``STATS_DUMP`` are unchanged.

Settings (Scrapy's): ``STATS_CLASS`` switches it on, ``STATS_DUMP``.
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class CrawlStatsCollector(MemoryStatsCollector):
    """``MemoryStatsCollector`` with plain attribute access (see the module docstring)."""

    __getattribute__ = object.__getattribute__
