"""Full-text search of the article store: an SQLite FTS5 index of title, lead and body.

``articles_fts`` is an *external-content* FTS5 table over ``articles`` (``content="articles"``,
joined on ``articles.rowid``, the layout Datasette and sqlite-utils recognise): it holds only the
index, and snippets are cut from the stored text itself. SQLite triggers on ``articles`` keep it in
step with every insert, ``INSERT OR REPLACE``, update of title/lead/body and delete, whatever
program writes the file (the crawl, ``reparse``, a researcher's own ``sqlite3`` session), so no
code path can forget it.

Matching ignores case and diacritics: the ``unicode61`` tokenizer with ``remove_diacritics 2``
folds ``nông thôn mới`` to ``nong thon moi``. It leaves ``đ``/``Đ`` alone (a letter of its own in
Unicode, not a ``d`` with a mark), so the triggers index ``replace(…, 'đ', 'd')`` of each column
(`fold_sql`) and queries are folded the same way (`fold_query`): ``dai hoi dang bo`` and ``Đại hội
Đảng bộ`` both find ``Đại hội Đảng bộ``. The replacement keeps every token where it was, so
snippets highlight the right words of the original text.

Queries use FTS5 syntax: words (all must match), ``"a phrase"``, ``prefix*``, ``OR``, ``NOT``,
``NEAR(a b)``, ``title: word``. Results are ranked by BM25 with title matches weighted above lead
and body matches.

A store written before the index existed gets it when first opened for writing (`ensure_index`,
one transaction; ~100,000 articles take the time `bench/bench_export.py` reports).
``rebuild_index`` rebuilds it, e.g. after a dump and reload that renumbered ``articles.rowid``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

FTS_TABLE = "articles_fts"
FTS_COLUMNS = ("title", "lead", "body")
# BM25 weights of title, lead and body: a word in the headline says more than one in paragraph 9.
_WEIGHTS = (10.0, 4.0, 1.0)
# Words of context either side of the matches in a snippet.
SNIPPET_TOKENS = 24
# Beginnings of the messages SQLite gives for a query FTS5 cannot parse.
_SYNTAX_ERRORS = ("fts5:", "unterminated string", "no such column", "unknown special query")


class SearchSyntaxError(ValueError):
    """A query FTS5 cannot parse; the message says why and how to write it."""


class NoIndexError(ValueError):
    """The store has no full-text index and cannot get one (it is open read-only)."""


@dataclass(frozen=True)
class SearchHit:
    """One article found: where it is, when it was published, and the words that matched."""

    canonical_url: str
    url: str
    site: str | None
    title: str | None
    published: str | None
    snippet: str
    score: float


def fold_sql(expression: str) -> str:
    """SQL folding ``đ``/``Đ`` of ``expression`` to ``d``/``D`` (the tokenizer does the rest).

    Usable in any SQLite client, e.g. a Datasette canned query:
    ``articles_fts MATCH replace(replace(:q, 'đ', 'd'), 'Đ', 'D')``.
    """
    return f"replace(replace({expression}, 'đ', 'd'), 'Đ', 'D')"


def fold_query(query: str) -> str:
    """A user's query folded like the indexed text."""
    return query.replace("đ", "d").replace("Đ", "D")


def _folded(row: str) -> str:
    return ", ".join(fold_sql(f"{row}.{column}") for column in FTS_COLUMNS)


_COLUMNS = ", ".join(FTS_COLUMNS)
# Deleting from an external-content index needs the values that were indexed; the guard on the
# index's own row list (``_docsize``) makes a second delete of one row a no-op, so the index
# survives a connection with ``recursive_triggers`` on (then REPLACE fires the delete trigger too).
_INDEXED = f"SELECT 1 FROM {FTS_TABLE}_docsize WHERE id = "
_SCHEMA = f"""
CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(
    {_COLUMNS}, content="articles", content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON articles BEGIN
    INSERT INTO {FTS_TABLE} (rowid, {_COLUMNS}) VALUES (new.rowid, {_folded("new")});
END;
-- INSERT OR REPLACE (the store's upsert) removes the old row without firing delete triggers.
CREATE TRIGGER {FTS_TABLE}_replace BEFORE INSERT ON articles BEGIN
    INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {_COLUMNS})
    SELECT 'delete', old.rowid, {_folded("old")} FROM articles AS old
    WHERE old.canonical_url = new.canonical_url AND EXISTS ({_INDEXED} old.rowid);
END;
CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON articles BEGIN
    INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {_COLUMNS})
    SELECT 'delete', old.rowid, {_folded("old")} WHERE EXISTS ({_INDEXED} old.rowid);
END;
CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF {_COLUMNS} ON articles BEGIN
    INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {_COLUMNS})
    SELECT 'delete', old.rowid, {_folded("old")} WHERE EXISTS ({_INDEXED} old.rowid);
    INSERT INTO {FTS_TABLE} (rowid, {_COLUMNS}) VALUES (new.rowid, {_folded("new")});
END;
"""
_FILL = (f"INSERT INTO {FTS_TABLE} (rowid, {_COLUMNS}) "
         f"SELECT rowid, {_folded('articles')} FROM articles")


def has_index(db: sqlite3.Connection) -> bool:
    """Whether the store has the full-text index."""
    return db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (FTS_TABLE,)
    ).fetchone() is not None


def ensure_index(db: sqlite3.Connection) -> bool:
    """Create the index, its triggers and its content if the store lacks them; True if built.

    One transaction: a store never has the index without every article in it.
    """
    if has_index(db):
        return False  # no write lock just to open a store
    db.execute("BEGIN IMMEDIATE")
    try:
        if has_index(db):
            db.rollback()
            return False
        for statement in _statements(_SCHEMA):
            db.execute(statement)
        db.execute(_FILL)
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return True


def rebuild_index(db: sqlite3.Connection) -> None:
    """Index every stored article afresh (one transaction)."""
    with db:
        db.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('delete-all')")
        db.execute(_FILL)


def _statements(script: str) -> Iterator[str]:
    """The statements of ``script`` (trigger bodies hold ``;`` of their own)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement.strip()
            statement = ""


def article_filters(site: str | None, since: str | None, until: str | None) -> tuple[str, list]:
    """SQL conditions on ``articles AS a`` for site and inclusive publication dates."""
    clauses, params = [], []
    if site:
        clauses.append("a.site = ?")
        params.append(site)
    if since:
        clauses.append("a.published >= ?")
        params.append(since)
    if until:
        # Inclusive of the whole day: ISO strings of that day sort below the next character.
        clauses.append("a.published < ?")
        params.append(until + "\uffff")
    return "".join(f" AND {clause}" for clause in clauses), params


def _checked(query: str) -> str:
    if not query or not query.strip():
        raise SearchSyntaxError("empty query")
    return fold_query(query)


def syntax_error(query: str, error: sqlite3.OperationalError) -> Exception:
    """`SearchSyntaxError` for an error FTS5 gave on reading ``query``; else ``error``."""
    message = str(error)
    if not message.startswith(_SYNTAX_ERRORS):
        return error
    return SearchSyntaxError(
        f"cannot read the query {query!r}: {message.removeprefix('fts5: ')} (FTS5 syntax: "
        'words, "a phrase", prefix*, OR, NOT; put the query, or its words holding - . : ( ) /, '
        'in double quotes)')


def search(
    db: sqlite3.Connection, query: str, site: str | None = None, since: str | None = None,
    until: str | None = None, limit: int = 20, highlight: tuple[str, str] = ("[", "]"),
) -> list[SearchHit]:
    """The ``limit`` best-ranked articles matching ``query`` (FTS5 syntax, folded).

    ``since``/``until`` are inclusive ISO dates bounding ``published``. A query FTS5 cannot
    parse raises `SearchSyntaxError`.
    """
    where, params = article_filters(site, since, until)
    weights = ", ".join(str(weight) for weight in _WEIGHTS)
    sql = (
        "SELECT a.canonical_url, a.url, a.site, a.title, a.published, "
        f"snippet({FTS_TABLE}, -1, ?, ?, '…', {SNIPPET_TOKENS}) AS snippet, "
        f"bm25({FTS_TABLE}, {weights}) AS score "
        f"FROM {FTS_TABLE} JOIN articles AS a ON a.rowid = {FTS_TABLE}.rowid "
        f"WHERE {FTS_TABLE} MATCH ?{where} ORDER BY score, a.published DESC LIMIT ?"
    )
    try:
        rows = db.execute(sql, (*highlight, _checked(query), *params, limit)).fetchall()
    except sqlite3.OperationalError as error:
        raise syntax_error(query, error) from error
    return [SearchHit(*row) for row in rows]


def check_query(db: sqlite3.Connection, query: str) -> None:
    """Raise `SearchSyntaxError` for a query FTS5 cannot read, `NoIndexError` without index."""
    if not has_index(db):
        raise NoIndexError("the store has no full-text index yet and is open read-only: open "
                           "it once as a user who may write to it (any scrapy command)")
    try:
        db.execute(f"SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? LIMIT 1",
                   (_checked(query),)).fetchall()
    except sqlite3.OperationalError as error:
        raise syntax_error(query, error) from error
