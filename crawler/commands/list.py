"""``scrapy list``: the spiders, then the catalogued portals the ``portal`` spider can crawl.

The first lines are Scrapy's own listing (one spider name per line: the profiled sites and
``portal``), so scripts reading it keep working; after a blank line and a heading come the
entries of ``spiders/catalogue.json`` (``id  name (province)  home``), crawled with ``scrapy
crawl portal -a site=<id>``. ``--spiders`` prints the first part only. No settings.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.list import Command as ScrapyList
from scrapy.spiderloader import get_spider_loader

from spiders.catalogue import CATALOGUE_PATH, CatalogueError, load_catalogue


class Command(ScrapyList):
    def short_desc(self) -> str:
        return "List the spiders and the catalogued portals (scrapy crawl portal -a site=ID)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--spiders", action="store_true",
                            help="list the spiders only, as Scrapy does")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        print("\n".join(sorted(get_spider_loader(self.settings).list())))
        if opts.spiders:
            return
        try:
            entries = load_catalogue()
        except CatalogueError as error:
            print(f"scrapy list: {error}", file=sys.stderr)
            self.exitcode = 2
            return
        print(f"\nCatalogued portals, no profile ({len(entries)}, {CATALOGUE_PATH.name}; "
              "crawl with: scrapy crawl portal -a site=ID):")
        for entry in sorted(entries.values(), key=lambda e: e["id"]):
            print(f"  {entry['id']:<18} {entry['name']} ({entry['province']})  {entry['home']}")
