"""``scrapy sitecheck SITE_ID``: the drift alarm. Re-parse a site's latest archived articles.

Reads the WARC files under ``<ARCHIVE_DIR>/warc/`` offline, keeps the latest ``response`` record
of every URL matching the site profile's article pattern (any host: crawls of a mirror count),
re-parses the newest ``SITECHECK_SAMPLE`` of them with the profile and reports, per field (title,
body, published, authors, images), the share of articles whose profile found it (see
``crawler/pipelines/fillrate.py``). The rates are compared with the previous check
(``<ARCHIVE_DIR>/sitecheck/<site_id>.json``), or, before the first check, with the last crawl's
summary (``last-crawl.json``). A field whose rate fell by more than ``SITECHECK_MARGIN`` makes
the command exit 1 and name it; the previous rates are then kept, so the alarm repeats until
the profile is fixed or the new rates are accepted with ``--accept``. A payload is decoded as the
crawl decoded it, under the same cap: one larger than ``DOWNLOAD_MAXSIZE`` (a decompression bomb
the crawl refused but archived) or otherwise unreadable is skipped and listed with its record.

An unknown site, no archived article of it, a previous check or crawl summary that cannot be
read, a result that cannot be written, a setting that is not a number: one line, exit code 2
(``crawler/cli.py``).

Settings: ``ARCHIVE_DIR``; ``SITECHECK_MARGIN`` (default 0.1); ``SITECHECK_SAMPLE`` (default 500);
``DOWNLOAD_MAXSIZE`` (as in a crawl).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from warcio.exceptions import ArchiveLoadFailed

from crawler.cli import InputError, cannot_read, cannot_write, one_line_errors
from crawler.parsing.article import extract_with_profile
from crawler.parsing.profile import SiteProfile
from crawler.parsing.sites import UnknownSiteError, load_profile
from crawler.pipelines.fillrate import FILL_FIELDS, fill_rates
from storage.partial import partial_file
from storage.payload import PayloadError
from storage.warc_articles import Capture, latest_captures, read_payload

logger = logging.getLogger(__name__)


def article_captures(warc_dir: Path, profile: SiteProfile) -> dict[str, Capture]:
    """The latest archived response of every URL matching the profile's article pattern.

    Any host counts: crawls of a mirror or of the replica portal are the site's pages too.
    """

    def is_article(url: str) -> bool:
        parts = urlsplit(url)
        return profile.article_url_regex.search(
            parts.path + (f"?{parts.query}" if parts.query else "")) is not None

    return latest_captures(warc_dir, is_article)


def _read(path: Path, read: Callable[[dict], tuple]) -> tuple:
    """``read`` applied to a JSON file; a file that is not what it should be is named."""
    try:
        return read(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise cannot_read(path, error) from error


def previous_rates(archive: Path, site_id: str) -> tuple[dict[str, float] | None, str]:
    """The rates to compare with, and where they come from."""
    check_file = archive / "sitecheck" / f"{site_id}.json"
    if check_file.exists():
        return _read(check_file, lambda previous: (
            previous["rates"], f"previous check ({previous['checked']}, {check_file})"))
    crawl_file = archive / "last-crawl.json"
    if crawl_file.exists():
        site = _read(crawl_file, lambda crawl: (crawl.get("fill_rates", {}).get(site_id),))[0]
        if site and site["articles"]:
            return site["rates"], f"last crawl ({crawl_file})"
    return None, "nothing (first check)"


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

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
        if len(args) != 1:
            raise UsageError("give exactly one SITE_ID")
        site_id = args[0]
        try:
            profile = load_profile(site_id)
        except UnknownSiteError as error:
            raise InputError(str(error)) from error
        archive = Path(self.settings["ARCHIVE_DIR"])
        try:
            margin = self.settings.getfloat("SITECHECK_MARGIN", 0.1)
            sample = self.settings.getint("SITECHECK_SAMPLE", 500)
        except ValueError as error:
            raise InputError(f"SITECHECK_MARGIN / SITECHECK_SAMPLE: {error}") from error
        articles = article_captures(archive / "warc", profile)
        if not articles:
            raise InputError(f"no archived {site_id} article in {archive / 'warc'} "
                             f"(URLs matching {profile.article_url_pattern}); crawl the site "
                             "first")
        newest = sorted(articles.values(), key=lambda capture: capture.date, reverse=True)
        warc_dir = archive / "warc"
        max_size = self.settings.getint("DOWNLOAD_MAXSIZE")
        records = []
        skipped = []
        for capture in newest[:sample]:
            try:
                payload = read_payload(warc_dir, capture, max_size)
            except (OSError, ArchiveLoadFailed, PayloadError) as error:
                skipped.append(f"  skipped {capture.url}: record {capture.pointer['record_id']} "
                               f"in {capture.pointer['filename']}: {error}")
                continue
            records.append(
                extract_with_profile(payload, capture.url, profile, capture.content_type))
        if not records:
            print("\n".join(skipped))
            print(f"scrapy sitecheck: none of the {len(skipped)} latest archived {site_id} "
                  "articles could be read (listed above)", file=sys.stderr)
            self.exitcode = 2
            return
        total, rates = fill_rates(records)
        before, source = previous_rates(archive, site_id)
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
        check_file = archive / "sitecheck" / f"{site_id}.json"
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
