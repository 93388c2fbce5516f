"""The article store's PostgreSQL connection: SQLite's calls on a psycopg 3 connection.

`PostgresConnection` offers what the store uses of ``sqlite3.Connection``: ``execute`` and
``executemany`` with ``?`` placeholders (turned into psycopg's ``%s``; a ``?`` inside a string
literal would be taken for one, so the store writes none), rows read by index or by column name
(and ``dict(row)``), ``with db:`` as one transaction (nested: a savepoint). Outside such a block
each statement commits by itself (autocommit), so a long-lived reader never holds a transaction
open on the server. Errors of the server or the connection are raised as `StoreDatabaseError`,
an ``sqlite3.DatabaseError``: the callers' one-line error handling serves both backends.
``stream`` reads a large result a batch at a time (exports, listings) where a plain ``execute``
would load it whole.

`PostgresDialect` builds the statements SQLite writes differently: ``INSERT OR REPLACE`` becomes
``INSERT … ON CONFLICT (key) DO UPDATE`` (the articles' ``rowid``, an identity column here,
renumbered like SQLite's so "latest stored" orders the same), ``INSERT OR IGNORE`` becomes
``ON CONFLICT DO NOTHING``. Schema changes take an advisory lock, so workers opening one
database at once do not race creating it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from functools import lru_cache

import psycopg

# Rows fetched at a time by `PostgresConnection.stream`.
STREAM_BATCH_ROWS = 1000
# pg_advisory_xact_lock key of schema changes: any constant the store alone uses.
_SCHEMA_LOCK = 0x5A4E_0019


class StoreDatabaseError(sqlite3.DatabaseError):
    """An error PostgreSQL (or the way to it) gave the store; psycopg's error is its cause."""


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except psycopg.Error as error:
        raise StoreDatabaseError(" ".join(str(error).split()) or type(error).__name__) \
            from error


class _Row(tuple):
    """A row read by position or by column name, like ``sqlite3.Row``."""

    _index: dict[str, int] = {}

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]) -> type[_Row]:
    return type("Row", (_Row,), {"_index": {name: i for i, name in enumerate(names)}})


def _rows(cursor):
    if cursor.description is None:
        return tuple
    row_class = _row_class(tuple(column.name for column in cursor.description))
    return row_class


@lru_cache(maxsize=1024)
def _placeholders(sql: str) -> str:
    """SQLite's ``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresConnection:
    """A psycopg 3 connection that takes the article store's SQLite-style calls."""

    def __init__(self, url: str, readonly: bool = False) -> None:
        with _translated():
            self._connection = psycopg.connect(url, autocommit=True, row_factory=_rows)
            if readonly:
                self._connection.execute("SET default_transaction_read_only = on")
        self._transactions: list = []
        self.dialect = POSTGRES

    def execute(self, sql: str, params: Iterable = ()) -> psycopg.Cursor:
        """Run one statement (``?`` placeholders); the cursor holds its whole result."""
        with _translated():
            return self._connection.execute(_placeholders(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Iterable]) -> psycopg.Cursor:
        """Run one statement for each row of parameters; ``rowcount`` totals them."""
        cursor = self._connection.cursor()
        with _translated():
            cursor.executemany(_placeholders(sql), [tuple(row) for row in rows])
        return cursor

    def executescript(self, script: str) -> None:
        """Run several statements without parameters."""
        with _translated():
            self._connection.execute(script)

    def stream(self, sql: str, params: Iterable = ()) -> Iterator:
        """The rows of a query, fetched `STREAM_BATCH_ROWS` at a time (memory stays flat).

        No other statement may run on this connection until the rows are read.
        """
        cursor = self._connection.cursor()
        with _translated():
            try:
                rows = cursor.stream(_placeholders(sql), tuple(params), size=STREAM_BATCH_ROWS)
            except TypeError:  # psycopg before 3.2 streams one row at a time
                rows = cursor.stream(_placeholders(sql), tuple(params))
            yield from rows

    def __enter__(self) -> PostgresConnection:
        transaction = self._connection.transaction()
        with _translated():
            transaction.__enter__()
        self._transactions.append(transaction)
        return self

    def __exit__(self, *exc_info) -> None:
        with _translated():
            self._transactions.pop().__exit__(*exc_info)

    def commit(self) -> None:
        """Nothing to do: statements outside ``with db:`` commit by themselves."""

    def rollback(self) -> None:
        """Nothing to do (see `commit`)."""

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()


class PostgresDialect:
    """The statements of the PostgreSQL store that SQLite writes differently."""

    name = "postgresql"

    @staticmethod
    def replace_into(table: str, columns: tuple[str, ...], key: tuple[str, ...],
                     renumber: bool = False) -> str:
        """Insert a row or overwrite the one with the same ``key`` (every column given).

        ``renumber``: the row gets a new ``rowid``, as SQLite's ``INSERT OR REPLACE`` gives it.
        """
        marks = ", ".join("?" for _ in columns)
        updates = [f"{name} = excluded.{name}" for name in columns if name not in key]
        if renumber:
            updates.append(f"rowid = nextval(pg_get_serial_sequence('{table}', 'rowid'))")
        return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "
                f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(updates)}")

    @staticmethod
    def insert_or_ignore(table: str, columns: tuple[str, ...], rows: str | None = None) -> str:
        """Insert rows (``VALUES`` of ``?``, or the query ``rows``) unless their key is taken."""
        source = rows or f"VALUES ({', '.join('?' for _ in columns)})"
        return f"INSERT INTO {table} ({', '.join(columns)}) {source} ON CONFLICT DO NOTHING"

    @staticmethod
    def columns(db, table: str) -> set[str]:
        """The names of a table's columns (in the schema the connection works in)."""
        return {row[0] for row in db.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ?", (table,))}

    @staticmethod
    def has_table(db, name: str) -> bool:
        """Whether the schema has a table, view or index called ``name``."""
        return db.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()[0]

    @staticmethod
    def unindexed(column: str) -> str:
        """``column`` as it is (PostgreSQL's planner weighs its indexes by statistics)."""
        return column

    @staticmethod
    def starts_with_month(column: str) -> str:
        """A condition: ``column`` starts with ``YYYY-MM``."""
        return f"{column} ~ '^[0-9]{{4}}-[0-9]{{2}}'"

    @staticmethod
    @contextlib.contextmanager
    def schema_lock(db: PostgresConnection) -> Iterator[None]:
        """One transaction holding the store's schema lock (workers may open it at once)."""
        with db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
            yield


POSTGRES = PostgresDialect()
