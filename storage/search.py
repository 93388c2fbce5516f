"""Full-text search of the article store: an SQLite FTS5 index of title, lead and body.

``articles_fts`` is an *external-content* FTS5 table over ``articles`` (``content="articles"``,
joined on ``articles.rowid``, the layout Datasette and sqlite-utils recognise): it holds only the
index, and snippets are cut from the stored text itself. SQLite triggers on ``articles`` keep it in
step with every insert, ``INSERT OR REPLACE``, update of title/lead/body and delete, whatever
program writes the file (the crawl, ``reparse``, a researcher's own ``sqlite3`` session), so no
code path can forget it.

New articles are indexed in batches, not one by one: the insert trigger only lists a new row in
``articles_fts_pending``, and `index_pending` indexes the listed rows in one statement, which the
store runs every `PENDING_BATCH` stored articles, when it is closed, when it is opened for
writing and before a search. FTS5 writes a segment per transaction, so indexing each article in
the crawl's own per-article transaction cost 0.27-0.30 ms of CPU per article against 0.09 ms in
a batch (1,000 replica articles, ``bench/bench_crawl_cpu.py``; docs/scale.md). A crash leaves
at most a batch listed, never lost: the next program to open the store for writing indexes it.
Rows already indexed are re-indexed by the update and replace triggers at once, as before.

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

On PostgreSQL (``DATABASE_URL``) the index is a GIN index, also called ``articles_fts``, on
the stored generated column ``articles.search_vector``: a ``tsvector`` (``simple``
configuration) of title, lead and body weighted A, B and D, each folded by the immutable SQL
function ``articles_fold`` (decomposed to NFD, the combining marks U+0300-U+036F dropped, then
``đ``/``Đ``/``Ð`` to ``d``/``D``: `fold_text` folds queries alike). PostgreSQL keeps it in step
with every write by itself; a stored vector (not an index on an expression) spares the ranking
from folding every matching article again. Queries are read as FTS5 syntax and turned into a
``tsquery`` (`postgres_query`): words, ``"phrases"``, ``prefix*``, ``OR``, ``NOT``, parentheses and
``title:``/``lead:``/``body:`` work alike; ``NEAR`` is refused with a clear error. Hits are
ranked by ``ts_rank`` with the same 10 : 4 : 1 weights, and the snippet is cut from the stored
text in Python (`snippet`), matches marked as on SQLite.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

FTS_TABLE = "articles_fts"
# Rows of ``articles`` stored since the last batch was indexed (their rowids).
PENDING_TABLE = "articles_fts_pending"
# Stored articles between two batches: a long crawl's search results trail it by at most this.
PENDING_BATCH = 500
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
CREATE TABLE IF NOT EXISTS {PENDING_TABLE} (id INTEGER PRIMARY KEY);
CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON articles BEGIN
    INSERT OR IGNORE INTO {PENDING_TABLE} (id) VALUES (new.rowid);
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
-- A row still pending is indexed with its values of then, by index_pending.
CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF {_COLUMNS} ON articles
WHEN EXISTS ({_INDEXED} old.rowid) BEGIN
    INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {_COLUMNS})
    VALUES ('delete', old.rowid, {_folded("old")});
    INSERT INTO {FTS_TABLE} (rowid, {_COLUMNS}) VALUES (new.rowid, {_folded("new")});
END;
"""
_FILL = (f"INSERT INTO {FTS_TABLE} (rowid, {_COLUMNS}) "
         f"SELECT rowid, {_folded('articles')} FROM articles")
# A listed rowid may be gone (deleted, or replaced under a new rowid) or already indexed (listed
# again by a REPLACE that reused it): only rows there and not indexed are added.
_FILL_PENDING = (
    f"INSERT INTO {FTS_TABLE} (rowid, {_COLUMNS}) "
    f"SELECT articles.rowid, {_folded('articles')} FROM {PENDING_TABLE} "
    f"JOIN articles ON articles.rowid = {PENDING_TABLE}.id "
    f"WHERE NOT EXISTS ({_INDEXED} articles.rowid)"
)


def has_index(db: sqlite3.Connection) -> bool:
    """Whether the store has the full-text index."""
    if _on_postgres(db):
        return db.dialect.has_table(db, FTS_TABLE)
    return db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (FTS_TABLE,)
    ).fetchone() is not None


def ensure_index(db: sqlite3.Connection) -> bool:
    """Create the index, its triggers and its content if the store lacks them; True if built.

    One transaction: a store never has the index without every article in it.
    """
    if has_index(db):
        _upgrade_to_batches(db)
        index_pending(db)
        return False
    if _on_postgres(db):
        with db:
            schema = db.execute("SELECT quote_ident(current_schema())").fetchone()[0]
            db.executescript(_postgres_schema(schema))
        return True
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
    if _on_postgres(db):
        db.execute(f"REINDEX INDEX {FTS_TABLE}")
        return
    with db:
        db.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('delete-all')")
        db.execute(_FILL)
        db.execute(f"DELETE FROM {PENDING_TABLE}")


def has_pending(db: sqlite3.Connection) -> bool:
    """Whether stored articles wait to be indexed (always False on PostgreSQL)."""
    if _on_postgres(db) or not has_index(db):
        return False
    try:
        return db.execute(f"SELECT 1 FROM {PENDING_TABLE} LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:
        return False  # an index from before batching (not yet upgraded): every row is in it


def index_pending(db: sqlite3.Connection) -> None:
    """Index the articles stored since the last batch (one transaction; none waiting: no write).

    Needs a connection that may write; on PostgreSQL there is nothing to do.
    """
    if not has_pending(db):
        return
    with db:
        db.execute(_FILL_PENDING)
        db.execute(f"DELETE FROM {PENDING_TABLE}")


def _upgrade_to_batches(db: sqlite3.Connection) -> None:
    """Give an index made before batching its pending list and batch triggers (one transaction).

    Every row is indexed in such a store, so the list starts empty.
    """
    if _on_postgres(db) or db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (PENDING_TABLE,)
    ).fetchone() is not None:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      (PENDING_TABLE,)).fetchone() is None:
            for name in ("insert", "update"):
                db.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{name}")
            for statement in _statements(_SCHEMA):
                if statement.startswith((f"CREATE TABLE IF NOT EXISTS {PENDING_TABLE}",
                                         f"CREATE TRIGGER {FTS_TABLE}_insert",
                                         f"CREATE TRIGGER {FTS_TABLE}_update")):
                    db.execute(statement)
        db.commit()
    except BaseException:
        db.rollback()
        raise


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
    if _on_postgres(db):
        return _postgres_search(db, query, where, params, limit, highlight)
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
    if _on_postgres(db):
        postgres_query(query)
        return
    try:
        db.execute(f"SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? LIMIT 1",
                   (_checked(query),)).fetchall()
    except sqlite3.OperationalError as error:
        raise syntax_error(query, error) from error


def match_condition(db, query: str) -> tuple[str, str]:
    """An SQL condition on ``articles AS a`` matching ``query``, and its one parameter."""
    if _on_postgres(db):
        return ("a.search_vector @@ to_tsquery('simple', ?)",
                postgres_query(query).text)
    return (f"a.rowid IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?)",
            fold_query(query))


# --- PostgreSQL ---------------------------------------------------------------------------------

def _on_postgres(db) -> bool:
    return not isinstance(db, sqlite3.Connection)


# Letters with a stroke, not a mark: no decomposition takes it off (Ð is Đ's look-alike).
STROKES = {"đ": "d", "Đ": "D", "Ð": "D"}
_COMBINING_MARKS = re.compile("[\u0300-\u036f]")
_STROKE_TABLE = str.maketrans(STROKES)
# ts_rank's weights of D (body), C (unused), B (lead), A (title): 1 : 4 : 10 as on SQLite.
_RANK_WEIGHTS = "{{{}, 0, {}, {}}}".format(*(weight / 10 for weight in reversed(_WEIGHTS)))
_COLUMN_WEIGHTS = {"title": "A", "lead": "B", "body": "D"}


def fold_text(text: str) -> str:
    """Text folded as ``articles_fold`` folds it on PostgreSQL (case aside)."""
    return _COMBINING_MARKS.sub("", unicodedata.normalize("NFD", text)).translate(_STROKE_TABLE)


def _postgres_schema(schema: str) -> str:
    """The folding and vector functions, the generated column and its GIN index.

    Functions are named with their schema inside each other and the column: PostgreSQL runs
    maintenance (``REINDEX``, ``ANALYZE``) with a search path of its own.
    """
    letters, bases = "".join(STROKES), "".join(STROKES.values())
    vector = " || ".join(
        f"setweight(to_tsvector('simple', {schema}.articles_fold(coalesce({name}, ''))), "
        f"'{weight}')" for name, weight in _COLUMN_WEIGHTS.items())
    return f"""
CREATE OR REPLACE FUNCTION {schema}.articles_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT translate(regexp_replace(normalize($1, NFD), '[\u0300-\u036f]', '', 'g'),
                           '{letters}', '{bases}') $$;
CREATE OR REPLACE FUNCTION {schema}.articles_fts_vector(title text, lead text, body text)
    RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT {vector} $$;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS search_vector tsvector
    GENERATED ALWAYS AS ({schema}.articles_fts_vector(title, lead, body)) STORED;
CREATE INDEX IF NOT EXISTS {FTS_TABLE} ON articles USING gin (search_vector);
"""


@dataclass(frozen=True)
class PostgresQuery:
    """A query as PostgreSQL reads it: the ``tsquery`` text and the words to mark."""

    text: str
    words: frozenset[str]
    prefixes: frozenset[str]


_QUERY_TOKEN = re.compile(r'\s*(?:"([^"]*)("?)|([()])|([^\s"()]+))')
_BAREWORD = re.compile(r"(\w+)(\*?)|(\w+):", re.UNICODE)


def postgres_query(query: str) -> PostgresQuery:
    """The ``tsquery`` of an FTS5 query; one it cannot read raises `SearchSyntaxError`."""
    def refuse(reason: str) -> SearchSyntaxError:
        return SearchSyntaxError(
            f"cannot read the query {query!r}: {reason} (FTS5 syntax: words, \"a phrase\", "
            "prefix*, OR, NOT; put the query, or its words holding - . : ( ) /, in double "
            "quotes)")

    if not query or not query.strip():
        raise SearchSyntaxError("empty query")
    parts: list[str] = []  # operands, operators and parentheses of the tsquery
    words: set[str] = set()
    prefixes: set[str] = set()
    weight, depth, position = "", 0, 0
    text = query.strip()

    def operand(lexemes: list[str], prefix: bool = False) -> None:
        nonlocal weight
        if not lexemes:
            raise refuse("a word or phrase with no letters or digits")
        if parts and parts[-1] not in ("&", "|", "& !", "("):
            parts.append("&")
        marks = [f"'{lexeme}':{weight}" if weight else f"'{lexeme}'" for lexeme in lexemes]
        if prefix:
            marks[-1] = f"'{lexemes[-1]}':*{weight}"
            prefixes.add(lexemes[-1].lower())
            words.update(lexeme.lower() for lexeme in lexemes[:-1])
        else:
            words.update(lexeme.lower() for lexeme in lexemes)
        parts.append(" <-> ".join(marks) if len(marks) == 1 else f"({' <-> '.join(marks)})")
        weight = ""

    while position < len(text):
        match = _QUERY_TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        position = match.end()
        phrase, closed, paren, bare = match.groups()
        if phrase is not None:
            if not closed:
                raise refuse("unterminated string")
            operand(re.findall(r"\w+", fold_text(phrase)))
        elif paren == "(":
            if parts and parts[-1] not in ("&", "|", "& !", "("):
                parts.append("&")
            parts.append("(")
            depth += 1
        elif paren == ")":
            depth -= 1
            if depth < 0 or not parts or parts[-1] in ("&", "|", "& !", "("):
                raise refuse("unbalanced or empty parentheses")
            parts.append(")")
        elif bare in ("AND", "OR", "NOT"):
            if not parts or parts[-1] in ("&", "|", "& !", "("):
                raise refuse(f"{bare} needs a word before it")
            parts.append({"AND": "&", "OR": "|", "NOT": "& !"}[bare])
        elif bare == "NEAR" or bare.startswith("NEAR("):
            raise refuse("NEAR() is not supported on PostgreSQL")
        else:
            word = _BAREWORD.fullmatch(bare)
            if word is None:
                raise refuse(f"syntax error near {bare!r}")
            if word.group(3) is not None:
                if word.group(3) not in _COLUMN_WEIGHTS or weight:
                    raise refuse(f"no such column: {word.group(3)}")
                weight = _COLUMN_WEIGHTS[word.group(3)]
                continue
            operand([fold_text(word.group(1))], prefix=bool(word.group(2)))
    if depth or weight or not parts or parts[-1] in ("&", "|", "& !", "("):
        raise refuse("incomplete query")
    return PostgresQuery(" ".join(parts), frozenset(words), frozenset(prefixes))


def _postgres_search(db, query: str, where: str, params: list, limit: int,
                     highlight: tuple[str, str]) -> list[SearchHit]:
    parsed = postgres_query(query)
    vector = "a.search_vector"
    rows = db.execute(
        "SELECT a.canonical_url, a.url, a.site, a.title, a.published, a.lead, a.body, "
        f"-ts_rank('{_RANK_WEIGHTS}', {vector}, q) AS score "
        f"FROM articles AS a, to_tsquery('simple', ?) AS q WHERE {vector} @@ q{where} "
        "ORDER BY score, a.published DESC LIMIT ?",
        (parsed.text, *params, limit)).fetchall()
    return [SearchHit(row[0], row[1], row[2], row[3], row[4],
                      snippet((row[3], row[5], row[6]), parsed, highlight), row[7])
            for row in rows]


def snippet(texts: tuple[str | None, ...], query: PostgresQuery,
            highlight: tuple[str, str] = ("[", "]"), size: int = SNIPPET_TOKENS) -> str:
    """About ``size`` words of the text with the most matches, the matches marked.

    As FTS5's ``snippet``: the column with most matching words (the first on a tie), the
    window of ``size`` words holding most of them, ``…`` where the text goes on.
    """
    best: tuple[int, str, list, list] | None = None
    for text in texts:
        if not text:
            continue
        tokens = list(re.finditer(r"\w+", text))
        hits = [index for index, token in enumerate(tokens) if _matches(token.group(), query)]
        if hits and (best is None or len(hits) > best[0]):
            best = (len(hits), text, tokens, hits)
    if best is None:
        return ""
    _, text, tokens, hits = best
    start = max(((max(0, min(hit, len(tokens) - size)) for hit in hits)),
                key=lambda first: sum(first <= hit < first + size for hit in hits))
    window = tokens[start:start + size]
    begin = 0 if start == 0 else window[0].start()
    end = len(text) if start + size >= len(tokens) else window[-1].end()
    pieces, cursor = [], begin
    marked = set(hits)
    for index, token in enumerate(window, start):
        if index in marked:
            pieces += [text[cursor:token.start()], highlight[0], token.group(), highlight[1]]
            cursor = token.end()
    pieces.append(text[cursor:end])
    return ("…" if begin else "") + "".join(pieces) + ("…" if end < len(text) else "")


def _matches(token: str, query: PostgresQuery) -> bool:
    folded = fold_text(token).lower()
    return folded in query.words or any(folded.startswith(p) for p in query.prefixes)
