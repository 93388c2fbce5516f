"""Bad input to the project's commands: one line naming it and saying why, exit code 2.

A command (or a spider's ``__init__``, or a component built when a crawl starts) raises
:class:`InputError` for an argument, setting or file it cannot use; :func:`one_line_errors` on a
command's ``run`` prints ``scrapy <command>: <message>`` on standard error and sets the exit code,
with no traceback and no usage text (Scrapy's ``UsageError`` stays for wrong option syntax).
The checks shared by several commands live here too: dates, site ids, files to read and write.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.parsing.profile import SiteProfile
from crawler.sites import UnknownSiteError, load_profile, site_ids
from storage.articles import ArticleStore
from storage.backends import StoreLocationError, is_postgres


class InputError(ValueError):
    """An argument, setting or file the user gave cannot be used; the message names it."""


class OfflineCommand(ScrapyCommand):
    """A command on the archive that crawls nothing: the project's settings, no crawler, no log."""

    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}


def print_error(command: str, error: Exception | str) -> None:
    """Print the one line for ``error`` as ``scrapy <command>: <message>``."""
    print(f"scrapy {command}: {error}", file=sys.stderr)


def one_line_errors(run: Callable[..., None]) -> Callable[..., None]:
    """Wrap a command's ``run``: an :class:`InputError` becomes one line and exit code 2."""

    @functools.wraps(run)
    def wrapper(self, args: list[str], opts: Any) -> None:
        try:
            run(self, args, opts)
        except (InputError, StoreLocationError) as error:
            print_error(type(self).__module__.rsplit(".", 1)[-1], error)
            self.exitcode = 2

    return wrapper


def parse_day(value: str | None, option: str) -> str | None:
    """``value`` checked as an ISO date (YYYY-MM-DD), or None when not given."""
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InputError(f"{option} {value}: not a date, expected YYYY-MM-DD") from None


def date_range(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """``--since`` and ``--until`` checked, and in order."""
    since, until = parse_day(since, "--since"), parse_day(until, "--until")
    if since and until and since > until:
        raise InputError(f"--since {since} is after --until {until}: nothing can match")
    return since, until


def check_site(site: str | None, stored: int) -> None:
    """Refuse a ``--site`` that is neither a site profile nor in the store (a typo)."""
    if site and not stored and site not in site_ids():
        raise InputError(f"--site {site}: no such site (known: {', '.join(site_ids())}) and no "
                         "article of it in the store")


def one_site_profile(args: list[str]) -> SiteProfile:
    """The profile of the one ``SITE_ID`` a command takes; an unknown site is refused."""
    if len(args) != 1:
        raise UsageError("give exactly one SITE_ID")
    try:
        return load_profile(args[0])
    except UnknownSiteError as error:
        raise InputError(str(error)) from error


def output_file(path: str | Path, option: str = "--output") -> Path:
    """A file to write: refused when it is a directory (its folder is created later)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{option} {path}: is a directory; give a file name")
    return path


def cannot_write(path: str | Path, error: OSError) -> InputError:
    """The one line for a file that could not be written."""
    return InputError(f"cannot write {path}: {error.strerror or error}")


def cannot_read(path: str | Path, error: Exception) -> InputError:
    """The one line for a file that could not be read or understood."""
    reason = error.strerror if isinstance(error, OSError) and error.strerror else error
    return InputError(f"cannot read {path}: {reason}")


def store_for_reading(path: Path) -> ArticleStore:
    """Open the article store to read it: read-only when this user may not write to it.

    A normal connection cleans up SQLite's ``-wal``/``-shm`` files when it closes; a read-only
    one cannot, so it is used only when it must be. A PostgreSQL store opens as for writing
    (its tables are created if the database has none yet).
    """
    if is_postgres(path):
        return ArticleStore(path)
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    return ArticleStore(path, readonly=not writable)


def store_error(path: Path, error: sqlite3.Error) -> InputError:
    """The one line for an article store SQLite could not open or use."""
    return InputError(f"article store {path}: {error}")


@contextlib.contextmanager
def store_of_site(path: Path, site: str | None) -> Iterator[ArticleStore]:
    """The article store opened to read (`store_for_reading`), ``--site`` checked against it
    (`check_site`); SQLite failing on it, while it is open, is its one line (`store_error`)."""
    try:
        with store_for_reading(path) as store:
            check_site(site, site and store.count(site))
            yield store
    except sqlite3.Error as error:
        raise store_error(path, error) from error
