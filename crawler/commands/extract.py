"""``scrapy extract PATH --url URL [--site ID]``: print one saved page's Article as JSON.

The same extractor a crawl uses, without a crawl: for checking a profile against a saved page.
``PATH`` may be ``-`` for standard input; a ``.gz`` file is decompressed first.

A file that cannot be read, is empty, is not text (a NUL byte in its first 8 KB, as ``git`` and
``grep`` judge binary files) or is a broken ``.gz``, and a ``--url`` that is not an http(s) URL,
are refused in one line with exit code 2. A page in which neither a title nor a body is found
is printed all the same, with a warning, and exit code 1.
"""

from __future__ import annotations

import argparse
import codecs
import gzip
import json
import sys
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.exceptions import UsageError

from crawler.cli import InputError, OfflineCommand, cannot_read, one_line_errors, print_error
from crawler.parsing import extract_article
from crawler.sites import UnknownSiteError

# How much of a file is looked at for a NUL byte.
BINARY_SNIFF_BYTES = 8192
# Text encodings whose characters include NUL bytes.
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def read_page(path: str) -> bytes:
    """Raw bytes of a saved page (``-`` reads standard input, ``.gz`` is decompressed)."""
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        raise cannot_read(path, error) from error
    if not path.endswith(".gz"):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(f"cannot read {path}: not a whole gzip file ({error})") from error


def check_page(path: str, html: bytes) -> None:
    """Refuse what cannot be a web page: nothing, or binary data."""
    if not html.strip():
        raise InputError(f"{path}: the file is empty" if not html
                         else f"{path}: the file holds only white space")
    head = html[:BINARY_SNIFF_BYTES]
    nul = -1 if head.startswith(_WIDE_BOMS) else head.find(b"\0")
    if nul >= 0:
        raise InputError(f"{path}: not an HTML page (binary data: a NUL byte at offset {nul})")


class Command(OfflineCommand):
    def syntax(self) -> str:
        return "PATH --url URL [--site ID]"

    def short_desc(self) -> str:
        return "Parse a saved article page and print its fields as JSON"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--url", required=True, help="the URL the page was fetched from")
        parser.add_argument("--site", help="site profile id (default: chosen by the URL's domain)")
        parser.add_argument("--content-type", help="the HTTP Content-Type header, for the charset")

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one PATH (or - for standard input)")
        path = args[0]
        parts = urlsplit(opts.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"--url {opts.url}: not an http(s) URL; give the address the page "
                             "was fetched from")
        html = read_page(path)
        check_page(path, html)
        try:
            record = extract_article(html, opts.url, site=opts.site, content_type=opts.content_type)
        except UnknownSiteError as error:
            raise InputError(str(error)) from error
        json.dump(record, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        if not record.get("title") and not record.get("body"):
            print_error("extract", f"{path}: found neither a title nor a body; is it an "
                                   "article page?")
            self.exitcode = 1
