"""``scrapy reparse SITE_ID``: parse a site's archived articles again, offline, into the store.

Archive first, parse second: when the extractor or a site profile improves, the articles already
archived are read again from the WARC files under ``WARC_DIR`` (default ``<ARCHIVE_DIR>/warc/``;
the latest ``200`` response of every URL matching the profile's article pattern, any host, found
through the CDXJ index ``scrapy index`` wrote where it covers the files, see
`storage.warc_articles`; one URL at a time, in URL order) and
stored as a crawl would store them: an article whose text changed becomes a new version (the old
one is kept), an unchanged one only gets its WARC pointer refreshed, and one that a crawl dropped
(no title or body then) is stored if the parser finds it now. A canonical URL is trusted by the
crawl's rule (on-site only, see ``crawler/origins.py``; the store refuses one naming another
article). Nothing is fetched. Pages that still lack a required field, or that the parser fails
on, are listed with their URL and the reason; the rest are stored all the same. A payload is
decoded as the crawl decoded it, under the same cap: one larger than ``DOWNLOAD_MAXSIZE`` (a
decompression bomb the crawl refused but archived) or in an unknown Content-Encoding is skipped
and listed with its record (`storage.payload`).

``--dry-run`` parses and counts without writing. An unknown site, no archived article of it, a
store that cannot be written: one line, exit code 2 (``crawler/cli.py``). Settings:
``ARCHIVE_DIR``, ``WARC_DIR``, ``ARTICLES_DB`` (``crawler/paths.py``), ``ARTICLES_REQUIRED_FIELDS``,
``DOWNLOAD_MAXSIZE`` (as in a crawl).
"""

from __future__ import annotations

import argparse
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from warcio.exceptions import ArchiveLoadFailed

from crawler.cli import InputError, OfflineCommand, one_line_errors, one_site_profile
from crawler.commands.sitecheck import article_captures
from crawler.origins import SiteOrigins, capture_base_url, trust_canonical
from crawler.parsing.article import extract_with_profile
from crawler.parsing.profile import SiteProfile
from crawler.paths import ArchivePaths
from storage.articles import ArticleStore
from storage.payload import PayloadError
from storage.warc_articles import Capture, read_payload


def reparse(
    warc_dir: Path, captures: Iterable[Capture], profile: SiteProfile, store: ArticleStore | None,
    required: list[str], max_size: int, problem: Callable[[str, str], None],
) -> Counter:
    """Parse each capture and upsert it (``store`` None: count only); return the counts.

    Each capture counts once; one that is not stored is given to ``problem`` (URL, reason)
    as it is met.

    The record gets the capture's pointer and its ``WARC-Date`` as ``fetched``: when the page
    was fetched, not when it was parsed again. A payload larger than ``max_size`` (the crawl's
    ``DOWNLOAD_MAXSIZE``) or undecodable is skipped (`storage.payload`).
    """
    counts: Counter = Counter()
    for capture in captures:
        try:
            payload = read_payload(warc_dir, capture, max_size)
        except PayloadError as error:
            problem(capture.url, f"record {capture.pointer['record_id']} in "
                                 f"{capture.pointer['filename']}: {error}")
            counts["skipped"] += 1
            continue
        except (OSError, ArchiveLoadFailed) as error:
            problem(capture.url, f"unreadable record in {capture.pointer['filename']}: {error}")
            counts["failed"] += 1
            continue
        try:
            record = extract_with_profile(payload, capture.url, profile, capture.content_type)
        except Exception as error:  # one broken page must never stop the others
            problem(capture.url, f"parse error: {error!r}")
            counts["failed"] += 1
            continue
        missing = [name for name in required if not record.get(name)]
        if missing:
            problem(capture.url, f"no {', '.join(missing)} found")
            counts["failed"] += 1
            continue
        base_url = capture_base_url(capture.url, profile.base_url, profile.domains)
        trust_canonical(record, base_url, profile.domains,
                        SiteOrigins.for_crawl(base_url, profile.domains))
        record["fetched"] = _fetched(capture.date)
        record["warc"] = capture.pointer
        counts[store.upsert(record).status if store is not None else "parsed"] += 1
    return counts


def _fetched(warc_date: str) -> str:
    """A WARC-Date as a crawl writes ``fetched``: UTC, whole seconds (it may have microseconds)."""
    try:
        return datetime.fromisoformat(warc_date.replace("Z", "+00:00")).isoformat(
            timespec="seconds")
    except ValueError:
        return warc_date


class Command(OfflineCommand):
    def syntax(self) -> str:
        return "SITE_ID [--dry-run]"

    def short_desc(self) -> str:
        return "Parse a site's archived articles again (offline) and update the article store"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--dry-run", action="store_true",
                            help="parse and count, but write nothing to the store")

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        profile = one_site_profile(args)
        paths = ArchivePaths.from_settings(self.settings)
        warc_dir, path = paths.warc_dir, paths.articles_db
        # In URL order, one at a time: memory does not grow with the archive.
        captures = article_captures(warc_dir, profile, paths.index_file)
        required = self.settings.getlist("ARTICLES_REQUIRED_FIELDS")
        max_size = self.settings.getint("DOWNLOAD_MAXSIZE")

        def problem(url: str, reason: str) -> None:
            print(f"  not stored: {url}: {reason}")

        if opts.dry_run:
            counts = reparse(warc_dir, captures, profile, None, required, max_size, problem)
        else:
            try:
                with ArticleStore(path) as store:
                    counts = reparse(warc_dir, captures, profile, store, required, max_size,
                                     problem)
            except (sqlite3.Error, OSError) as error:
                raise InputError(f"cannot write the article store {path}: {error} "
                                 "(--dry-run parses without writing)") from error
        summary = ", ".join(f"{counts[key]} {key}" for key in sorted(counts))
        target = "nothing written (dry run)" if opts.dry_run else f"store {path}"
        print(f"Reparsed {sum(counts.values())} archived {profile.site_id} articles from "
              f"{warc_dir}: {summary}; {target}")
