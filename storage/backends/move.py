"""Move an SQLite article store into PostgreSQL: every table, streamed, idempotent, checked.

`move_store` opens the SQLite file (an older file is migrated first, as any opening does) and
the PostgreSQL database (its tables created when missing), then copies ``articles``,
``article_versions``, ``fetch_state``, ``crawl_runs`` (the job history), ``failed_articles`` and
``assets`` a batch at a time: memory stays flat however large the archive. Each batch is one
transaction of upserts by the table's key, so running the move again (after an interruption,
or to bring over what a crawl added to the file since) copies the same rows onto themselves and
duplicates nothing. Articles go over in the file's ``rowid`` order, so the PostgreSQL ``rowid``
keeps their order. After each batch the target is asked how many of the batch's keys it holds:
a row that did not arrive stops the move with the table and key named.

The full-text index needs no copying: PostgreSQL indexes the rows as they arrive. The SQLite
file is left as it was (it is the fallback until the move is checked).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storage.articles import ArticleStore
from storage.backends import DatabaseUrl

# Each table and its key, in the order they are moved.
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("articles", ("canonical_url",)),
    ("article_versions", ("canonical_url", "version")),
    ("fetch_state", ("url",)),
    ("crawl_runs", ("run_id",)),
    ("failed_articles", ("url",)),
    ("assets", ("url",)),
)
BATCH_ROWS = 1000


class MoveError(RuntimeError):
    """Rows of the SQLite store did not arrive in PostgreSQL."""


@dataclass(frozen=True)
class TableMove:
    """One table moved: rows in the SQLite file, and in PostgreSQL before and after."""

    table: str
    rows: int
    before: int
    after: int


def move_store(
    source: Path, target: str | DatabaseUrl, batch: int = BATCH_ROWS,
    progress: Callable[[str, int], None] | None = None,
) -> list[TableMove]:
    """Copy every table of the SQLite store ``source`` into the PostgreSQL store ``target``.

    ``progress(table, rows so far)`` is called after each batch.
    """
    moved = []
    with ArticleStore(source) as sqlite_store, ArticleStore(target) as postgres_store:
        source_db, target_db = sqlite_store._db, postgres_store._db
        dialect = target_db.dialect
        for table, key in TABLES:
            targets = dialect.columns(target_db, table)
            columns = tuple(name for name in _ordered_columns(source_db, table)
                            if name in targets)
            upsert = dialect.replace_into(table, columns, key, renumber=table == "articles")
            positions = [columns.index(name) for name in key]
            match = " AND ".join(f"{name} = ?" for name in key)
            check = (f"SELECT COUNT(*) FROM {table} WHERE "
                     f"({' OR '.join(f'({match})' for _ in range(batch))})")
            before = _count(target_db, table)
            rows = source_db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid")
            copied = 0
            while chunk := [tuple(row) for row in itertools.islice(rows, batch)]:
                with target_db:
                    target_db.executemany(upsert, chunk)
                keys = [value for row in chunk for value in (row[i] for i in positions)]
                keys += [None] * (len(key) * batch - len(keys))  # None matches no row
                arrived = target_db.execute(check, keys).fetchone()[0]
                if arrived != len(chunk):
                    raise MoveError(f"{table}: {len(chunk) - arrived} of {len(chunk)} rows after "
                                    f"key {chunk[0][positions[0]]!r} are not in {target}")
                copied += len(chunk)
                if progress is not None:
                    progress(table, copied)
            moved.append(TableMove(table, _count(source_db, table), before,
                                   _count(target_db, table)))
            if moved[-1].rows != copied or moved[-1].after < copied:
                raise MoveError(f"{table}: {copied} rows copied, {moved[-1].rows} in {source}, "
                                f"{moved[-1].after} in {target}")
    return moved


def _ordered_columns(db, table: str) -> list[str]:
    """The SQLite table's columns in their declared order."""
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def _count(db, table: str) -> int:
    return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
