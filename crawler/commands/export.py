"""``scrapy export --format jsonl|csv|parquet --output FILE``: the article store for researchers.

Options select what to export: ``--site``, ``--since``/``--until`` (publication dates as
YYYY-MM-DD, inclusive), ``--section`` (the portal's section, exactly), ``--query`` (full text,
FTS5 syntax as in ``scrapy search``), ``--versions`` (every stored version of the selected
articles, each with its own fetch time and WARC pointer) and ``--fields`` (a comma-separated
list of the fields to keep). Beside FILE go its dataset card (``README.md``), JSON schema and
``SHA256SUMS`` (``storage/dataset_card.py``). Reads ``ARTICLES_DB`` (default
``<ARCHIVE_DIR>/articles.sqlite3``). A bad date, an unknown site or field, a query FTS5 cannot
read, an output that is a directory or cannot be written, a folder whose README.md is not an
export's card, a store that is not one: one line naming it, exit code 2, no file written
(``crawler/cli.py``).
"""

from __future__ import annotations

import argparse

from crawler.cli import (
    InputError,
    OfflineCommand,
    cannot_write,
    date_range,
    one_line_errors,
    output_file,
    store_of_site,
)
from crawler.paths import ArchivePaths
from storage.export import FORMATS, Selection, check_fields, export_dataset
from storage.search import NoIndexError, SearchSyntaxError


class Command(OfflineCommand):
    def syntax(self) -> str:
        return ("--output FILE [--format jsonl|csv|parquet] [--site ID] [--since DATE] "
                "[--until DATE] [--section NAME] [--query TEXT] [--versions] [--fields A,B]")

    def short_desc(self) -> str:
        return "Export stored articles (JSON Lines, CSV, Parquet) with a dataset card"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--format", default="jsonl", choices=FORMATS)
        parser.add_argument("-o", "--output", required=True, help="file to write")
        parser.add_argument("--site", help="only this site id")
        parser.add_argument("--since", help="only articles published on or after YYYY-MM-DD")
        parser.add_argument("--until", help="only articles published on or before YYYY-MM-DD")
        parser.add_argument("--section", help="only articles of this section (exact name)")
        parser.add_argument("--query", help="only articles whose text matches (as scrapy search)")
        parser.add_argument("--versions", action="store_true",
                            help="every stored version, not only the latest")
        parser.add_argument("--fields", help="comma-separated fields to keep (default: all)")

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        since, until = date_range(opts.since, opts.until)
        fields = None if opts.fields is None else opts.fields.split(",")
        try:
            fields = check_fields(fields, opts.format)
        except ValueError as error:
            raise InputError(f"--fields: {error}") from error
        output = output_file(opts.output)
        path = ArchivePaths.from_settings(self.settings).articles_db
        if not path.exists():
            raise InputError(f"no article store at {path} (run a crawl first, or set "
                             "ARCHIVE_DIR / ARTICLES_DB)")
        selection = Selection(site=opts.site, since=since, until=until, section=opts.section,
                              query=opts.query, versions=opts.versions)
        try:
            with store_of_site(path, opts.site) as store:
                count = export_dataset(store, output, opts.format, selection, fields)
        except (SearchSyntaxError, NoIndexError) as error:
            raise InputError(f"--query: {error}") from error
        except FileExistsError as error:
            raise InputError(str(error)) from error
        except OSError as error:
            raise cannot_write(output, error) from error
        kind = "versions" if opts.versions else "articles"
        print(f"Exported {count} {kind} from {path} to {output} ({opts.format}), with "
              "README.md, SHA256SUMS and a JSON schema beside it")
