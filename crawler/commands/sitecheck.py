"""``scrapy sitecheck SITE_ID``: the drift alarm. Re-parse a site's latest archived articles.

Reads the WARC files under ``WARC_DIR`` (default ``<ARCHIVE_DIR>/warc/``) offline, through the
CDXJ index ``scrapy index`` wrote (``<ARCHIVE_DIR>/index.cdxj``) for the files it covers
(`storage.warc_articles`), keeps the latest ``response`` record of every URL matching the site
profile's article pattern (any host: crawls of a mirror count), re-parses the newest
``SITECHECK_SAMPLE`` of them with the profile and reports,
per field (title, body, published, authors, images), the share of articles whose profile found it
(see ``crawler/pipelines/fillrate.py``). The rates are compared with the previous check
(``<ARCHIVE_DIR>/sitecheck/<site_id>.json``), or, before the first check, with the last crawl's
summary (``CRAWL_SUMMARY_FILE``, default ``<ARCHIVE_DIR>/last-crawl.json``). A field whose rate
fell by more than ``SITECHECK_MARGIN`` makes the command exit 1 and name it; the previous rates
are then kept, so the alarm repeats until the profile is fixed or the new rates are accepted with
``--accept``. A payload is decoded as the crawl decoded it, under the same cap: one larger than
``DOWNLOAD_MAXSIZE`` (a decompression bomb the crawl refused but archived) or otherwise unreadable
is skipped and listed with its record.

An unknown site, no archived article of it, a previous check or crawl summary that cannot be
read, a result that cannot be written, a setting that is not a number: one line, exit code 2
(``crawler/cli.py``).

Settings: ``ARCHIVE_DIR`` and the paths under it (``crawler/paths.py``); ``SITECHECK_MARGIN``
(default 0.1); ``SITECHECK_SAMPLE`` (default 500); ``DOWNLOAD_MAXSIZE`` (as in a crawl).
"""
from __future__ import annotations

import argparse
import heapq
import itertools
import json
import logging
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from warcio.exceptions import ArchiveLoadFailed

from crawler.cli import (
    InputError,
    OfflineCommand,
    cannot_read,
    cannot_write,
    one_line_errors,
    one_site_profile,
)
from crawler.parsing.article import extract_with_profile
from crawler.parsing.profile import SiteProfile
from crawler.paths import ArchivePaths
from crawler.pipelines.fillrate import FILL_FIELDS, fill_rates
from storage.partial import partial_file
from storage.payload import PayloadError
from storage.warc_articles import Capture, IndexMismatch, iter_latest_captures, read_payload

logger = logging.getLogger(__name__)


def article_captures(warc_dir: Path, profile: SiteProfile,
                     index_file: Path | None = None) -> Iterator[Capture]:
    """The latest archived response of every URL matching the profile's article pattern.

    In URL order, read through ``index_file`` (the archive's CDXJ index) where it covers the
    files. Any host counts: crawls of a mirror or of the replica portal are the site's pages
    too. None at all, or an index that points at other records, is refused in one line.
    """
    captures = _index_checked(iter_latest_captures(warc_dir, profile.is_article_url, index_file))
    first = next(captures, None)
    if first is None:
        raise InputError(f"no archived {profile.site_id} article in {warc_dir} "
                         f"(URLs matching {profile.article_url_pattern}); crawl the site first")
    return itertools.chain([first], captures)


def _index_checked(captures: Iterator[Capture]) -> Iterator[Capture]:
    try:
        yield from captures
    except IndexMismatch as error:
        raise InputError(str(error)) from error


def parse_latest(
    warc_dir: Path, profile: SiteProfile, sample: int, max_size: int,
    index_file: Path | None = None,
) -> tuple[list[dict], list[str]]:
    """The newest ``sample`` archived articles parsed with ``profile``, and a line for each
    capture that could not be read (a payload over ``max_size``, a broken record)."""
    captures = article_captures(warc_dir, profile, index_file)
    # Equal to sorted(..., reverse=True)[:sample], holding only the sample.
    newest = heapq.nlargest(sample, captures, key=lambda capture: capture.date)
    records = []
    skipped = []
    for capture in newest:
        try:
            payload = read_payload(warc_dir, capture, max_size)
        except (OSError, ArchiveLoadFailed, PayloadError) as error:
            skipped.append(f"  skipped {capture.url}: record {capture.pointer['record_id']} "
                           f"in {capture.pointer['filename']}: {error}")
            continue
        try:
            records.append(extract_with_profile(payload, capture.url, profile,
                                                capture.content_type))
        except Exception as error:  # one page the parser fails on must not stop the check
            logger.debug("Parser failed on %s", capture.url, exc_info=True)
            skipped.append(f"  skipped {capture.url}: could not be parsed: {error!r}")
    return records, skipped


def _read(path: Path, read: Callable[[dict], tuple]) -> tuple:
    """``read`` applied to a JSON file; a file that is not what it should be is named."""
    try:
        return read(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise cannot_read(path, error) from error


def previous_rates(paths: ArchivePaths, site_id: str) -> tuple[dict[str, float] | None, str]:
    """The rates to compare with, and where they come from."""
    check_file = paths.sitecheck_file(site_id)
    if check_file.exists():
        return _read(check_file, lambda previous: (
            previous["rates"], f"previous check ({previous['checked']}, {check_file})"))
    crawl_file = paths.summary_file
    if crawl_file is not None and crawl_file.exists():
        site = _read(crawl_file, lambda crawl: (crawl.get("fill_rates", {}).get(site_id),))[0]
        if site and site["articles"]:
            return site["rates"], f"last crawl ({crawl_file})"
    return None, "nothing (first check)"


def write_baseline(check_file: Path, site_id: str, total: int, rates: dict[str, float]) -> None:
    """Keep this check's rates as the ones the next check compares with."""
    try:
        # Renamed into place when whole: a killed check leaves the previous one readable.
        with partial_file(check_file, "w", encoding="utf-8") as handle:
            handle.write(json.dumps({
                "site": site_id,
                "checked": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "articles": total,
                "rates": {name: round(rate, 4) for name, rate in rates.items()},
            }, indent=2) + "\n")
    except OSError as error:
        raise cannot_write(check_file, error) from error


class Command(OfflineCommand):
    def syntax(self) -> str:
        return "SITE_ID [--accept]"

    def short_desc(self) -> str:
        return "Re-parse a site's archived articles and alarm when a field's fill rate falls"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--accept", action="store_true",
                            help="take this check's rates as the new baseline even if they fell")

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        profile = one_site_profile(args)
        site_id = profile.site_id
        paths = ArchivePaths.from_settings(self.settings)
        try:
            margin = self.settings.getfloat("SITECHECK_MARGIN", 0.1)
            sample = self.settings.getint("SITECHECK_SAMPLE", 500)
        except ValueError as error:
            raise InputError(f"SITECHECK_MARGIN / SITECHECK_SAMPLE: {error}") from error
        records, skipped = parse_latest(paths.warc_dir, profile, sample,
                                        self.settings.getint("DOWNLOAD_MAXSIZE"),
                                        paths.index_file)
        if not records:
            print("\n".join(skipped))
            print(f"scrapy sitecheck: none of the {len(skipped)} latest archived {site_id} "
                  "articles could be read (listed above)", file=sys.stderr)
            self.exitcode = 2
            return
        total, rates = fill_rates(records)
        before, source = previous_rates(paths, site_id)
        fallen = [
            name for name in FILL_FIELDS
            if before is not None and before.get(name, 0) - rates[name] > margin
        ]
        print(f"Site check: {site_id}, {total} latest archived articles; compared with {source}")
        for name in FILL_FIELDS:
            was = f"{before[name]:.0%}" if before is not None and name in before else "-"
            flag = "  FELL" if name in fallen else ""
            print(f"  {name:<10} {rates[name]:>5.0%}  (was {was}){flag}")
        for line in skipped:
            print(line)
        if fallen and not opts.accept:
            print(f"scrapy sitecheck: {site_id}: fill rate fell by more than {margin:.0%} for "
                  f"{', '.join(fallen)}: the layout probably changed; check the selectors in "
                  f"spiders/{site_id}.py (then `scrapy sitecheck {site_id} --accept` if the "
                  "site really has fewer such fields)", file=sys.stderr)
            self.exitcode = 1
            return
        write_baseline(paths.sitecheck_file(site_id), site_id, total, rates)
