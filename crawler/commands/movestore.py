"""``scrapy movestore --to postgresql://…``: move the SQLite article store into PostgreSQL.

Copies every table of ``ARTICLES_DB`` (default ``<ARCHIVE_DIR>/articles.sqlite3``) - articles
and their versions, fetch state, the job history, failed articles, assets - into the PostgreSQL
database ``--to`` names (default: ``DATABASE_URL``), a batch at a time, and checks that every
row arrived (``storage/backends/move.py``). Safe to run again: rows are upserted by their key.
Then set ``DATABASE_URL`` for the crawls and commands (``docs/scaling.md``); the SQLite file is
left as it was.
"""

from __future__ import annotations

import argparse
import sqlite3
import time

from crawler.cli import InputError, OfflineCommand, one_line_errors, store_error
from crawler.paths import ArchivePaths
from storage.backends import DatabaseUrl, StoreLocationError, store_location
from storage.backends.move import MoveError, move_store


class Command(OfflineCommand):
    def syntax(self) -> str:
        return "--to postgresql://user@host/database"

    def short_desc(self) -> str:
        return "Move the SQLite article store into PostgreSQL (idempotent, every row checked)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--to", metavar="URL",
                            help="the PostgreSQL database (default: DATABASE_URL)")

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise InputError(f"takes no arguments, not {' '.join(args)!r} (use --to URL)")
        sqlite_settings = self.settings.copy()
        sqlite_settings.set("DATABASE_URL", "")  # the source is the file, whatever is set
        source = ArchivePaths.from_settings(sqlite_settings).articles_db
        url = opts.to or self.settings.get("DATABASE_URL")
        if not url:
            raise InputError("--to: give the PostgreSQL database (postgresql://user@host/db)")
        try:
            target = store_location(url, source)
        except StoreLocationError as error:
            raise InputError(f"--to {url}: not a PostgreSQL URL "
                             "(postgresql://user@host/database)") from error
        assert isinstance(target, DatabaseUrl)
        if not source.is_file():
            raise InputError(f"no article store at {source}: nothing to move (set ARCHIVE_DIR "
                             "or ARTICLES_DB)")
        started = time.perf_counter()
        try:
            moved = move_store(source, target)
        except MoveError as error:
            self.exitcode = 1
            print(f"Move incomplete: {error}")
            return
        except sqlite3.Error as error:
            # Imported only here: psycopg costs every `scrapy` command ~75 ms to import.
            from storage.backends.postgres import StoreDatabaseError

            failed = target if isinstance(error, StoreDatabaseError) else source
            raise store_error(failed, error) from error
        print(f"Moved {source} into {target} in {time.perf_counter() - started:.1f} s:")
        for table in moved:
            print(f"  {table.table:<17} {table.rows:>9} rows; in PostgreSQL {table.before} "
                  f"before, {table.after} now")
        print("Every row arrived. Set DATABASE_URL to use it (docs/scaling.md).")
