"""``scrapy browse``: the article store in a web page, served read-only by Datasette.

``scrapy browse [--host 127.0.0.1] [--port 8001] [--metadata FILE]`` serves ``ARTICLES_DB``
with Datasette (the established tool for publishing SQLite data) until Ctrl-C: the
``article_list`` view with facets on site, section, author, month and year, full-text search
when the store has its index (``articles_fts``), the canned queries of ``storage/browse.py``,
every field described, and CSV or JSON downloads of any filtered view (the page's ``CSV`` and
``JSON`` links; "stream all rows" in the CSV options downloads every matching row).

Datasette opens the store read-only; the one write is the view ``article_list``, added once (a
store nobody may write to is served without it, with a warning line). ``--metadata FILE`` is a JSON
file of Datasette metadata laid over the generated one (``title``, ``license``,
``license_url``, ``source_url``, ``description``…); ``--print-metadata`` prints the generated
metadata and exits (for ``datasette publish``). ``--port 0`` takes any free port. The URL is
printed once the server listens. A store that does not exist, an address that cannot be
listened on or a metadata file that cannot be read: one line, exit code 2.

Settings: ``ARCHIVE_DIR`` / ``ARTICLES_DB`` (``crawler/paths.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path

from scrapy.exceptions import UsageError

from crawler.cli import InputError, OfflineCommand, cannot_read, one_line_errors, print_error
from crawler.paths import ArchivePaths
from storage import browse
from storage.backends import is_postgres

# Generous limits: this is one researcher's local server, and facets over a decade of articles
# take longer than Datasette's defaults, made for public servers.
DATASETTE_SETTINGS = {
    "sql_time_limit_ms": 10_000,
    "facet_time_limit_ms": 3_000,
    "max_csv_mb": 0,  # no cap on a streamed CSV download: the whole filtered view
    "suggest_facets": False,
    "truncate_cells_html": 300,  # bodies stay whole in CSV and JSON
    "default_page_size": 50,
}


class Command(OfflineCommand):
    def syntax(self) -> str:
        return "[--host HOST] [--port PORT] [--metadata FILE]"

    def short_desc(self) -> str:
        return "Browse, search and download the article store in a web page (Datasette)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--host", default="127.0.0.1",
                            help="interface to listen on (default: 127.0.0.1, this machine only)")
        parser.add_argument("--port", type=int, default=8001,
                            help="TCP port (default: 8001; 0: any free port)")
        parser.add_argument("--metadata", metavar="FILE",
                            help="JSON Datasette metadata laid over the generated one")
        parser.add_argument("--print-metadata", action="store_true",
                            help="print the Datasette metadata and exit")

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError(f"takes no arguments, not {' '.join(args)!r}")
        db = ArchivePaths.from_settings(self.settings).articles_db
        if is_postgres(db):
            raise InputError(f"DATABASE_URL names PostgreSQL ({db}): scrapy browse serves an "
                             "SQLite store (Datasette); browse an export or a copy in SQLite")
        if not db.is_file():
            raise InputError(f"no article store at {db}: crawl first (or set ARTICLES_DB)")
        overrides = read_metadata(opts.metadata) if opts.metadata else {}
        problem = browse.add_views(db)
        browse.index_pending(db)
        if problem:
            print_error("browse", f"cannot add the view {browse.LIST_VIEW} to {db} ({problem}): "
                        "served without it, so without the month facet")
        with_view = problem is None
        with_fts = browse.has_table(db, browse.FTS_TABLE)
        metadata = merged(browse.metadata(db.stem, with_view, with_fts), overrides)
        if opts.print_metadata:
            print(json.dumps(metadata, ensure_ascii=False, indent=2))
            return
        listener = listen(opts.host, opts.port)
        serve(db, metadata, listener, with_view)


def read_metadata(path: str) -> dict:
    """The user's metadata file: a JSON object."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise cannot_read(path, error) from error
    if not isinstance(value, dict):
        raise InputError(f"--metadata {path}: not a JSON object")
    return value


def merged(base: dict, overrides: dict) -> dict:
    """``base`` with ``overrides`` laid over it, nested objects merged key by key."""
    result = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``, or the one line saying why it cannot."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except (OSError, OverflowError) as error:
        reason = getattr(error, "strerror", None) or error
        raise InputError(f"cannot listen on {host}:{port}: {reason}") from None
    return listener


def serve(db: Path, metadata: dict, listener: socket.socket, with_view: bool) -> None:
    """Serve ``db`` with Datasette on ``listener`` until interrupted."""
    import uvicorn
    from datasette.app import Datasette

    # A store in a folder nobody may write to cannot get SQLite's WAL index: serve the file
    # as it is (immutable), as `ArticleStore` reads it.
    immutable = not os.access(db.parent, os.W_OK)
    datasette = Datasette(
        files=[] if immutable else [str(db)], immutables=[str(db)] if immutable else [],
        metadata=metadata, settings=DATASETTE_SETTINGS,
    )
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    start = f"/{db.stem}/{browse.LIST_VIEW}" if with_view else f"/{db.stem}"
    print(f"Serving {db} read-only at http://{shown}:{port}{start} (Ctrl-C stops)", flush=True)
    config = uvicorn.Config(datasette.app(), log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[listener])
    sys.stdout.flush()
