"""``scrapy extract PATH --url URL [--site ID]``: print one saved page's Article as JSON.

The same extractor a crawl uses, without a crawl: for checking a profile against a saved page.
``PATH`` may be ``-`` for standard input; a ``.gz`` file is decompressed first.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.parsing import extract_article
from crawler.parsing.sites import UnknownSiteError


def read_page(path: str) -> bytes:
    """Raw bytes of a saved page (``-`` reads standard input)."""
    if path == "-":
        return sys.stdin.buffer.read()
    data = Path(path).read_bytes()
    return gzip.decompress(data) if path.endswith(".gz") else data


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "PATH --url URL [--site ID]"

    def short_desc(self) -> str:
        return "Parse a saved article page and print its fields as JSON"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--url", required=True, help="the URL the page was fetched from")
        parser.add_argument("--site", help="site profile id (default: chosen by the URL's domain)")
        parser.add_argument("--content-type", help="the HTTP Content-Type header, for the charset")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one PATH (or - for standard input)")
        try:
            html = read_page(args[0])
        except OSError as error:
            print(f"scrapy extract: cannot read {args[0]}: {error.strerror or error}",
                  file=sys.stderr)
            self.exitcode = 2
            return
        try:
            record = extract_article(html, opts.url, site=opts.site, content_type=opts.content_type)
        except UnknownSiteError as error:
            print(f"scrapy extract: {error}", file=sys.stderr)
            self.exitcode = 2
            return
        json.dump(record, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
