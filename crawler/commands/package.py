"""``scrapy package --output FILE.wacz``: package the archive as a WACZ.

Puts every closed WARC file of ``WARC_DIR`` (default ``<ARCHIVE_DIR>/warc``) into a
WACZ with its CDXJ index and ``pages/pages.jsonl`` listing the archived articles of
the article store (URL, capture time, title), then runs ``wacz validate`` on it before it
gets its name (``storage/package.py``): a WACZ that does not validate is not kept.
``--site ID`` keeps the pages of one site (the WARC files are always all included).

An output that does not end in ``.wacz``, is a directory or cannot be written, no closed WARC
file or one that is not a WARC file, an unknown ``--site``, a store that is not one: one line
naming it, exit code 2 (``crawler/cli.py``).

Settings: ``ARCHIVE_DIR``, ``WARC_DIR``, ``ARTICLES_DB``, ``WARC_IS_PART_OF`` (the title).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterable

from crawler.cli import (
    InputError,
    OfflineCommand,
    cannot_write,
    check_site,
    one_line_errors,
    output_file,
    store_of_site,
)
from crawler.commands.index import warc_files_to_read
from crawler.paths import ArchivePaths
from storage.package import article_pages, write_wacz
from storage.partial import remove_leftovers


class Command(OfflineCommand):
    def syntax(self) -> str:
        return "--output FILE.wacz [--site ID] [--title TEXT]"

    def short_desc(self) -> str:
        return "Package the WARC files and the article list as a WACZ (validated)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--output", "-O", required=True, help="the .wacz file to write")
        parser.add_argument("--site", help="list only this site's articles as pages")
        parser.add_argument("--title", help="the collection's title (default: WARC_IS_PART_OF)")

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        output = output_file(opts.output)
        if output.suffix != ".wacz":
            raise InputError(f"--output {opts.output}: a WACZ file name ends in .wacz")
        paths = ArchivePaths.from_settings(self.settings)
        directory, db = paths.warc_dir, paths.articles_db
        files = warc_files_to_read(directory)
        title = opts.title or self.settings.get("WARC_IS_PART_OF") or "provincial-news-archiver"
        for leftover in remove_leftovers(output):
            print(f"Removed {leftover}, left by an interrupted run")
        with contextlib.ExitStack() as stack:
            articles: Iterable[dict] = ()
            if db.exists():
                store = stack.enter_context(store_of_site(db, opts.site))
                # Streamed from the store into the zip: memory stays flat however many.
                articles = store.iter_articles(site=opts.site)
            else:
                check_site(opts.site, 0)
            try:
                counts = write_wacz(files, article_pages(articles, directory), output,
                                    title=title, warc_root=directory, index_file=paths.index_file)
            except ValueError as error:
                self.exitcode = 1
                print(error)
                return
            except OSError as error:
                raise cannot_write(opts.output, error) from error
        print(f"Wrote {opts.output}: {counts.warc_files} WARC files, {counts.pages} article "
              f"pages; wacz validate passed")
        if counts.index_reused:
            print(f"Its index is {paths.index_file}'s lines: that index is current (scrapy index "
                  "made it from these very files)")
        if counts.index.unresolved_not_modified:
            print(f"Left out of its index {counts.index.unresolved_not_modified} 304 "
                  f"revalidations whose confirmed capture is not in these files")
