"""Where the article store lives: an SQLite file (the default) or a PostgreSQL database.

The store's SQL is written once, in SQLite's dialect, and runs on both: a PostgreSQL connection
(`storage.backends.postgres.PostgresConnection`) takes the same calls as ``sqlite3.Connection``
(``execute``/``executemany`` with ``?`` placeholders, rows read by index or column name,
``with db:`` for one transaction). The few statements that differ are built by the connection's
dialect (`dialect_of`): ``INSERT OR REPLACE`` and ``INSERT OR IGNORE``, the column list of a
table, whether a table exists, a column kept out of the index choice, a pattern match.

`store_location` reads ``DATABASE_URL`` (a setting, defaulting to the environment variable of
that name): empty keeps the SQLite file ``ARTICLES_DB``; ``postgresql://…`` (or
``postgres://…``) names a PostgreSQL database, which psycopg 3 reaches (imported only then).
Both backends raise ``sqlite3.Error`` (PostgreSQL's errors as its subclass
`storage.backends.postgres.StoreDatabaseError`), so callers handle one kind of error.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgresql", "postgres")


class StoreLocationError(ValueError):
    """A ``DATABASE_URL`` that names no database this store can use."""


@dataclass(frozen=True)
class DatabaseUrl:
    """A PostgreSQL database holding the article store; printed without its password.

    It answers the few questions code asks of a store file's path: it ``exists()`` (a database
    without the store's tables gets them when opened) and has a ``name``.
    """

    url: str

    def exists(self) -> bool:
        """Always: the server, not a file, says whether the database can be opened."""
        return True

    @property
    def name(self) -> str:
        """The database's name, as a store file's name is used (dataset cards, messages)."""
        return urlsplit(self.url).path.lstrip("/") or "postgres"

    def __str__(self) -> str:
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def store_location(database_url: str | None, articles_db: Path) -> Path | DatabaseUrl:
    """The article store ``DATABASE_URL`` names, or the SQLite file ``articles_db`` when empty."""
    if not database_url:
        return articles_db
    if urlsplit(database_url).scheme in POSTGRES_SCHEMES:
        return DatabaseUrl(database_url)
    raise StoreLocationError(
        f"DATABASE_URL {database_url!r}: not a PostgreSQL URL (postgresql://user@host/db); "
        "leave it empty for the SQLite file ARTICLES_DB")


def is_postgres(location: object) -> bool:
    """Whether ``location`` (a path, a URL string or a `DatabaseUrl`) is a PostgreSQL database."""
    if isinstance(location, DatabaseUrl):
        return True
    return isinstance(location, str) and urlsplit(location).scheme in POSTGRES_SCHEMES


def connect(location: str | Path | DatabaseUrl, readonly: bool = False):
    """A PostgreSQL connection for a database URL; None for an SQLite path (the store opens it)."""
    if not is_postgres(location):
        return None
    from storage.backends.postgres import PostgresConnection

    url = location.url if isinstance(location, DatabaseUrl) else location
    return PostgresConnection(url, readonly=readonly)


class SqliteDialect:
    """The statements of the SQLite store, as they always were."""

    name = "sqlite"

    @staticmethod
    def replace_into(table: str, columns: tuple[str, ...], key: tuple[str, ...],
                     renumber: bool = False) -> str:
        """Insert a row, replacing the one with the same ``key`` (a new rowid)."""
        marks = ", ".join("?" for _ in columns)
        return f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({marks})"

    @staticmethod
    def insert_or_ignore(table: str, columns: tuple[str, ...], rows: str | None = None) -> str:
        """Insert rows (``VALUES`` of ``?``, or the query ``rows``) unless their key is taken."""
        source = rows or f"VALUES ({', '.join('?' for _ in columns)})"
        return f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) {source}"

    @staticmethod
    def columns(db, table: str) -> set[str]:
        """The names of a table's columns."""
        return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}

    @staticmethod
    def has_table(db, name: str) -> bool:
        """Whether the store has a table (or view, or virtual table) called ``name``."""
        return db.execute(
            "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (name,)
        ).fetchone() is not None

    @staticmethod
    def unindexed(column: str) -> str:
        """``column`` in a condition the planner must not pick an index for (SQLite: ``+``)."""
        return f"+{column}"

    @staticmethod
    def starts_with_month(column: str) -> str:
        """A condition: ``column`` starts with ``YYYY-MM``."""
        return f"{column} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]*'"

    @staticmethod
    @contextlib.contextmanager
    def schema_lock(db) -> Iterator[None]:
        """Held while a store's schema is created or migrated (SQLite locks the file itself)."""
        yield


SQLITE = SqliteDialect()


def dialect_of(db):
    """The dialect of a store connection (``sqlite3.Connection`` or `PostgresConnection`)."""
    return SQLITE if isinstance(db, sqlite3.Connection) else db.dialect


def add_columns(db, table: str, columns: Sequence[tuple[str, str]]) -> None:
    """Add to ``table`` the ``(name, declaration)`` columns it lacks.

    Processes opening one new store together (two crawls starting at once) each see the
    column missing: on SQLite the check is made again inside a write transaction, so the second
    adds nothing ("duplicate column name" otherwise); on PostgreSQL the caller holds the
    schema lock (`PostgresDialect.schema_lock`).
    """
    dialect = dialect_of(db)
    if all(name in dialect.columns(db, table) for name, _ in columns):
        return  # no write lock just to open a store
    if dialect is not SQLITE:
        with db:
            for name, declaration in columns:
                if name not in dialect.columns(db, table):
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        present = dialect.columns(db, table)
        for name, declaration in columns:
            if name not in present:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
        db.commit()
    except BaseException:
        db.rollback()
        raise


def use_wal(db: sqlite3.Connection, attempts: int = 100) -> None:
    """Put an SQLite store in WAL mode, waiting for another process switching it at once.

    Switching needs the file to itself, and SQLite answers "database is locked" at once instead
    of waiting (its busy timeout does not apply): two crawls opening a new store together hit it.
    """
    for attempt in range(attempts):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


def stream(db, sql: str, params=()) -> Iterator:
    """The rows of a query read as they are needed: memory does not grow with the result.

    SQLite's cursor already reads row by row; a PostgreSQL connection fetches in batches.
    """
    if isinstance(db, sqlite3.Connection):
        return db.execute(sql, params)
    return db.stream(sql, params)
