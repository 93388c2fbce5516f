"""The article store: clean Article records in SQLite (or PostgreSQL), one row per canonical URL,
all versions.

``ArticleStore.upsert`` compares the record's ``content_hash`` with the stored one: a new URL is
stored as version 1, an unchanged article only has its fetch time and WARC pointer refreshed, and a
changed article becomes version N+1 while ``article_versions`` keeps every earlier version, so a
researcher can see what changed. The file is an ordinary SQLite database (WAL mode) that
researchers may query directly; list fields are JSON text.

A page's canonical URL is its key only when it does not name a *different* article: when the
key is taken by an article fetched from another URL, whose text differs and which is not the
same article (`same_article`: same title, at least half the paragraphs of the shorter body in
common), the page is stored under its own URL with ``canonical_rejected = "collision"`` and
``canonical_claimed`` (the URL it named). Which page came first does not matter: when the page
at a URL arrives after another page took that URL as its canonical one, the page at the URL
wins the key and the other moves, with its versions, to its own URL (flagged the same way).

For incremental crawls the store also remembers how each URL was last fetched (``fetch_state``:
``ETag``, ``Last-Modified``, the sitemap ``lastmod`` that led to it, when and with what status) and
every crawl run (``crawl_runs``: start, end, finish reason, and whether the run was *complete*,
see ``docs/crawling.md``), so the next run can send conditional requests and skip what the portal
says is unchanged. Article URLs that failed (``failed_articles``: reason, failure count, next
attempt) are tried again by later crawls with a backoff, until one stores them.

Store files written by earlier versions are migrated when opened: missing tables and columns are
added, nothing is reshaped.

The ``assets`` table tracks each image of the stored articles (by the URL the article gives):
``pending`` until a response is archived for it (``archived``, with the WARC pointer), or
``failed`` (reason, attempts, when to retry) until retried or ``given_up``. A store that predates
the table gets it on opening, with the images of its stored articles as ``unverified``: archived
or not, the next crawl finds out (``spiders/assets.py``). Owed assets are read in pages through a
partial index that holds only the rows not yet archived, so the work is bounded by what is owed,
not by the size of the archive.

Titles, leads and bodies are indexed for full-text search (``articles_fts``, kept in step by
triggers; ``storage/search.py``), built on first opening for a store that predates it.

With ``DATABASE_URL`` set to ``postgresql://…`` the same tables live in that PostgreSQL database
(``storage/backends/``: the same statements, the few that differ built by a dialect); ``articles``
has a ``rowid`` identity column there, renumbered on replace like SQLite's, and the full-text
index is a GIN index on a folded ``tsvector``. Exports, reports and searches read both alike;
``scrapy browse`` (Datasette) serves SQLite files only.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from storage import backends
from storage import search as fulltext
from storage.jobs import setup_schema as _setup_job_history

logger = logging.getLogger(__name__)

# Column order is the order of keys in exported records.
ARTICLE_FIELDS: tuple[str, ...] = (
    "url", "canonical_url", "site", "title", "lead", "body", "published", "modified", "authors",
    "credit", "section", "tags", "images", "language", "fetched", "warc", "content_hash", "version",
)
_JSON_FIELDS = frozenset({"authors", "tags", "images", "warc"})
# Provenance fields (``published_source`` …) travel in one JSON column so adding one needs no
# schema change.
_EXTRA_COLUMN = "provenance"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS articles (
    {", ".join(f"{name} {'INTEGER' if name == 'version' else 'TEXT'}" for name in ARTICLE_FIELDS)},
    {_EXTRA_COLUMN} TEXT,
    first_fetched TEXT,
    PRIMARY KEY (canonical_url)
);
CREATE INDEX IF NOT EXISTS articles_site_published ON articles (site, published);
CREATE INDEX IF NOT EXISTS articles_url ON articles (url);
CREATE TABLE IF NOT EXISTS article_versions (
    canonical_url TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    fetched TEXT,
    record TEXT NOT NULL,
    PRIMARY KEY (canonical_url, version)
);
CREATE TABLE IF NOT EXISTS fetch_state (
    url TEXT PRIMARY KEY,
    status INTEGER,
    etag TEXT,
    last_modified TEXT,
    lastmod TEXT,
    fetched TEXT
);
CREATE TABLE IF NOT EXISTS crawl_runs (
    run_id TEXT PRIMARY KEY,
    spider TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    reason TEXT
);
CREATE TABLE IF NOT EXISTS failed_articles (
    url TEXT PRIMARY KEY,
    spider TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT,
    failures INTEGER NOT NULL,
    first_failed TEXT NOT NULL,
    last_failed TEXT NOT NULL,
    next_attempt TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS failed_articles_due ON failed_articles (spider, next_attempt, url);
"""
# Columns added to existing tables since their first version: (table, column, declaration).
# A run recorded before ``complete`` existed is not trusted as complete (NULL).
_ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("crawl_runs", "status", "TEXT"),
    ("crawl_runs", "complete", "INTEGER"),
)

# Asset rows not archived (nor given up): the only ones a crawl reads, so they alone are indexed.
# Queries repeat this condition word for word, which is how SQLite picks a partial index.
_OWED = "status IN ('pending', 'failed', 'unverified')"
_ASSETS_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS assets (
    url TEXT PRIMARY KEY,
    site TEXT,
    article TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    tried TEXT,
    retry_after TEXT,
    warc TEXT
);
CREATE INDEX IF NOT EXISTS assets_owed ON assets (site, url) WHERE {_OWED};
"""
# PostgreSQL has no rowid: an identity column stands in (renumbered on replace, as in SQLite).
_POSTGRES_ROWID = "ALTER TABLE articles ADD COLUMN rowid BIGINT GENERATED BY DEFAULT AS IDENTITY"
_ARTICLE_KEY = ("canonical_url",)
_VERSION_COLUMNS = ("canonical_url", "version", "content_hash", "fetched", "record")
# The stored columns of an article (not PostgreSQL's rowid and search vector).
ARTICLE_COLUMNS = ", ".join((*ARTICLE_FIELDS, _EXTRA_COLUMN, "first_fetched"))
_FAILURE_COLUMNS = ("url", "spider", "reason", "detail", "failures", "first_failed",
                    "last_failed", "next_attempt")


@dataclass(frozen=True)
class FetchState:
    """How a URL was last fetched: validators to send back, and the sitemap ``lastmod`` seen."""

    url: str
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    lastmod: str | None = None
    fetched: str | None = None


@dataclass(frozen=True)
class KnownArticle:
    """An article already in the store: its URL, publication time and last fetch time."""

    url: str
    published: str | None
    fetched: str | None
    # When its first version was fetched (so a crawl can tell its own articles from earlier ones).
    first_fetched: str | None = None


@dataclass(frozen=True)
class AssetState:
    """One image of the stored articles: archived, pending, failed, given up or unverified."""

    url: str
    site: str | None
    article: str | None
    status: str
    attempts: int = 0
    reason: str | None = None
    tried: str | None = None
    retry_after: str | None = None
    warc: str | None = None


@dataclass(frozen=True)
class FailedArticle:
    """An article URL that failed: why, how often in a row, and when to try it again."""

    url: str
    spider: str
    reason: str
    detail: str | None
    failures: int
    first_failed: str
    last_failed: str
    next_attempt: str


def retry_delay(failures: int, max_days: float) -> timedelta:
    """How long after its ``failures``-th failure in a row an article waits for its next try.

    The next crawl tries it again; after that 1, 2, 4… days, never more than ``max_days``.
    """
    if failures <= 1:
        return timedelta(0)
    return timedelta(days=min(2.0 ** (failures - 2), max_days))


@dataclass(frozen=True)
class UpsertResult:
    """What ``upsert`` did: ``status`` is ``new``, ``updated`` or ``unchanged``.

    ``canonical_url`` is the key the record was stored under; ``canonical_rejected`` says why it
    is not the record's canonical URL (``collision``), and ``moved`` names the page that had
    taken the record's URL as its canonical one and was moved to its own URL.
    """

    status: str
    version: int
    canonical_url: str | None = None
    canonical_rejected: str | None = None
    moved: str | None = None


class ArticleStore:
    """Store of Article records in an SQLite file or a PostgreSQL database.

    ``path``: the SQLite file, or a PostgreSQL URL (a ``postgresql://…`` string or a
    `storage.backends.DatabaseUrl`).
    """

    def __init__(self, path: str | Path | backends.DatabaseUrl, readonly: bool = False) -> None:
        self.readonly = readonly
        # Articles stored since the full-text index last took its batch (storage/search.py).
        self._unindexed = 0
        if backends.is_postgres(path):
            self.path = path if isinstance(path, backends.DatabaseUrl) else \
                backends.DatabaseUrl(path)
            self._db = backends.connect(self.path, readonly=readonly)
            self._dialect = self._db.dialect
            if not readonly:
                self._setup()
            return
        self.path = Path(path)
        self._dialect = backends.SQLITE
        if readonly:
            # Exports and reports only read: a store they may not write to still opens.
            uri = f"{self.path.absolute().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True)
            try:
                self._db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError:
                # In a folder we cannot write, SQLite cannot make the WAL index (-shm) it needs;
                # then no crawl has the store open (it would have made one): read it as it is.
                self._db.close()
                self._db = sqlite3.connect(uri + "&immutable=1", uri=True)
            self._db.row_factory = sqlite3.Row
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.row_factory = sqlite3.Row
        # WAL keeps readers (exports) working during a crawl; NORMAL survives a process crash.
        backends.use_wal(self._db)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._setup()

    def _setup(self) -> None:
        """Create the tables and indexes a store lacks and migrate an earlier version's."""
        dialect = self._dialect
        with dialect.schema_lock(self._db):
            postgres = dialect is not backends.SQLITE
            # On PostgreSQL, DDL on a table that exists still takes locks: skip it when done.
            if not (postgres and dialect.has_table(self._db, "assets")):
                self._db.executescript(_SCHEMA)
            if postgres and "rowid" not in dialect.columns(self._db, "articles"):
                self._db.execute(_POSTGRES_ROWID)
            self._add_assets_table()
            self._migrate()
            _setup_job_history(self._db)
            fulltext.ensure_index(self._db)

    def _migrate(self) -> None:
        """Add the columns a store file written by an earlier version lacks."""
        for table, column, declaration in _ADDED_COLUMNS:
            backends.add_columns(self._db, table, [(column, declaration)])

    def close(self) -> None:
        """Commit and close the database (a second call does nothing)."""
        if self._db is None:
            return
        self._db.commit()
        if not self.readonly:
            fulltext.index_pending(self._db)
        self._db.close()
        self._db = None

    def __enter__(self) -> ArticleStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def upsert(self, record: dict) -> UpsertResult:
        """Store a record by its canonical URL (``url`` when it has none) and commit.

        A canonical URL that names a different article is not used (see the module docstring).
        """
        record = dict(record)
        record["canonical_url"] = record.get("canonical_url") or record["url"]
        if not record.get("content_hash"):
            raise ValueError(f"article {record['url']} has no content_hash")
        key = record["canonical_url"]
        row = self._db.execute(
            "SELECT version, content_hash, first_fetched, url, title, body FROM articles "
            "WHERE canonical_url = ?",
            (key,),
        ).fetchone()
        moved = None
        if (row is not None and row["url"] != record["url"]
                and row["content_hash"] != record["content_hash"]
                and not same_article(dict(row), record)):
            if key != record["url"]:
                # The page names another article's URL as its canonical one.
                record.update(canonical_url=record["url"], canonical_rejected="collision",
                              canonical_claimed=key)
                return self.upsert(record)
            moved = row["url"]
            self._move_claim(key, moved)
            row = None
        with self._db:
            if row is not None and row["content_hash"] == record["content_hash"]:
                self._db.execute(
                    "UPDATE articles SET fetched = ?, warc = ?, url = ? WHERE canonical_url = ?",
                    (record.get("fetched"), _json(record.get("warc")), record["url"], key),
                )
                return UpsertResult("unchanged", row["version"], key,
                                    record.get("canonical_rejected"))
            version = 1 if row is None else row["version"] + 1
            record["version"] = version
            first_fetched = record.get("fetched") if row is None else row["first_fetched"]
            columns = (*ARTICLE_FIELDS, _EXTRA_COLUMN, "first_fetched")
            values = [_column_value(record, name) for name in ARTICLE_FIELDS]
            values += [_json(_provenance(record)), first_fetched]
            self._db.execute(
                self._dialect.replace_into("articles", columns, _ARTICLE_KEY, renumber=True),
                values,
            )
            self._db.execute(
                self._dialect.replace_into("article_versions", _VERSION_COLUMNS,
                                           ("canonical_url", "version")),
                (key, version, record["content_hash"], record.get("fetched"),
                 json.dumps(record, ensure_ascii=False)),
            )
        self._unindexed += 1
        if self._unindexed >= fulltext.PENDING_BATCH:
            fulltext.index_pending(self._db)
            self._unindexed = 0
        return UpsertResult("new" if row is None else "updated", version, key,
                            record.get("canonical_rejected"), moved)

    def _move_claim(self, key: str, url: str) -> None:
        """Move the article stored under ``key`` (fetched from ``url``) to key ``url``."""
        flags = {"canonical_rejected": "collision", "canonical_claimed": key}
        claim = self._db.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE canonical_url = ?", (key,)
        ).fetchone()
        taken = self._db.execute(
            "SELECT 1 FROM articles WHERE canonical_url = ?", (url,)
        ).fetchone()
        if taken:
            # Stored under its own URL as well: its latest copy goes there like a fetch would.
            self.upsert({**_record(claim), **flags, "canonical_url": url})
        versions = self._db.execute(
            "SELECT version, record FROM article_versions WHERE canonical_url = ?", (key,)
        ).fetchall()
        with self._db:
            if taken:
                self._db.execute("DELETE FROM articles WHERE canonical_url = ?", (key,))
                self._db.execute("DELETE FROM article_versions WHERE canonical_url = ?", (key,))
                return
            provenance = {**json.loads(claim[_EXTRA_COLUMN] or "{}"), **flags}
            self._db.execute(
                f"UPDATE articles SET canonical_url = ?, {_EXTRA_COLUMN} = ? "
                "WHERE canonical_url = ?",
                (url, _json(provenance), key),
            )
            for version in versions:
                stored = {**json.loads(version["record"]), **flags, "canonical_url": url}
                self._db.execute(
                    "UPDATE article_versions SET canonical_url = ?, record = ? "
                    "WHERE canonical_url = ? AND version = ?",
                    (url, json.dumps(stored, ensure_ascii=False), key, version["version"]),
                )

    def capture_of(self, url: str) -> dict | None:
        """The WARC pointer of the article last archived from ``url`` (or canonically ``url``)."""
        row = self._db.execute(
            "SELECT warc FROM articles WHERE url = ? UNION ALL "
            "SELECT warc FROM articles WHERE canonical_url = ? LIMIT 1",
            (url, url),
        ).fetchone()
        return json.loads(row["warc"]) if row and row["warc"] else None

    def known_articles(self, site: str | None = None) -> dict[str, KnownArticle]:
        """Every stored article by its URL and by its canonical URL (both keys point to it)."""
        query = "SELECT url, canonical_url, published, fetched FROM articles"
        rows = self._db.execute(query + " WHERE site = ?", (site,)) if site else self._db.execute(
            query
        )
        known: dict[str, KnownArticle] = {}
        for row in rows:
            article = KnownArticle(row["url"], row["published"], row["fetched"])
            known[row["url"]] = known[row["canonical_url"]] = article
        return known

    def known_article(self, site: str, url: str) -> KnownArticle | None:
        """The site's stored article whose URL or canonical URL is ``url``, or None.

        One indexed lookup (the ``url`` index and the primary key), however large the store.
        When several rows match (a page that changed its canonical URL), the one
        `known_articles` would list last for the URL: the latest published.
        """
        row = self._db.execute(
            "SELECT url, published, fetched, first_fetched FROM articles "
            f"WHERE (url = ? OR canonical_url = ?) AND {self._dialect.unindexed('site')} = ? "
            "ORDER BY published DESC, rowid DESC LIMIT 1",
            (url, url, site),
        ).fetchone()
        return None if row is None else KnownArticle(**dict(row))

    def fetch_state(self, url: str) -> FetchState | None:
        """How ``url`` was last fetched (one lookup by primary key), or None."""
        row = self._db.execute("SELECT * FROM fetch_state WHERE url = ?", (url,)).fetchone()
        return None if row is None else FetchState(**dict(row))

    def record_fetch(self, state: FetchState) -> None:
        """Remember how a URL was fetched; a ``lastmod`` or validator not given is kept."""
        with self._db:
            self._db.execute(
                "INSERT INTO fetch_state (url, status, etag, last_modified, lastmod, fetched) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
                "status = excluded.status, fetched = excluded.fetched, "
                "etag = COALESCE(excluded.etag, fetch_state.etag), "
                "last_modified = COALESCE(excluded.last_modified, fetch_state.last_modified), "
                "lastmod = COALESCE(excluded.lastmod, fetch_state.lastmod)",
                (state.url, state.status, state.etag, state.last_modified, state.lastmod,
                 state.fetched),
            )

    def fetch_states(self) -> dict[str, FetchState]:
        """The last fetch of every URL the store remembers, by URL."""
        rows = self._db.execute("SELECT * FROM fetch_state")
        return {row["url"]: FetchState(**dict(row)) for row in rows}

    def start_run(self, run_id: str, spider: str, started: str) -> None:
        """Record that a crawl run started (``started``: ISO 8601 UTC)."""
        with self._db:
            if self._dialect is not backends.SQLITE:
                # SQLite's REPLACE empties the columns it is not given: so does this.
                self._db.execute("DELETE FROM crawl_runs WHERE run_id = ?", (run_id,))
            self._db.execute(
                self._dialect.replace_into("crawl_runs", ("run_id", "spider", "started"),
                                           ("run_id",)),
                (run_id, spider, started),
            )

    def finish_run(
        self, run_id: str, finished: str, reason: str, status: str | None = None,
        complete: bool = False,
    ) -> None:
        """Record how a crawl run ended.

        ``reason`` is Scrapy's finish reason, ``status`` the crawl's outcome (``complete``,
        ``incomplete``, ``failed``…) and ``complete`` whether later crawls may rely on it.
        """
        with self._db:
            self._db.execute(
                "UPDATE crawl_runs SET finished = ?, reason = ?, status = ?, complete = ? "
                "WHERE run_id = ?",
                (finished, reason, status, int(complete), run_id),
            )

    def last_complete_run(self, spider: str) -> tuple[str, str] | None:
        """Start and end of the spider's last complete run, or None."""
        row = self._db.execute(
            "SELECT started, finished FROM crawl_runs WHERE spider = ? AND complete = 1 "
            "ORDER BY started DESC LIMIT 1",
            (spider,),
        ).fetchone()
        return None if row is None else (row["started"], row["finished"])

    def record_failure(
        self, url: str, spider: str, reason: str, detail: str | None, when: datetime,
        max_days: float,
    ) -> FailedArticle:
        """Count one more failure of an article URL and schedule its next try (`retry_delay`)."""
        with self._db:
            row = self._db.execute(
                "SELECT failures, first_failed FROM failed_articles WHERE url = ?", (url,)
            ).fetchone()
            failures = 1 if row is None else row["failures"] + 1
            failed = FailedArticle(
                url=url, spider=spider, reason=reason, detail=detail, failures=failures,
                first_failed=_utc(when) if row is None else row["first_failed"],
                last_failed=_utc(when),
                next_attempt=_utc(when + retry_delay(failures, max_days)),
            )
            self._db.execute(
                self._dialect.replace_into("failed_articles", _FAILURE_COLUMNS, ("url",)),
                (failed.url, failed.spider, failed.reason, failed.detail, failed.failures,
                 failed.first_failed, failed.last_failed, failed.next_attempt),
            )
        return failed

    def clear_failures(self, urls: list[str]) -> int:
        """Forget failed articles that are now stored; return how many were listed."""
        if not urls:
            return 0
        # Most stored articles never failed: an indexed read spares them a write transaction.
        marks = ", ".join("?" for _ in urls)
        if not self._db.execute(
            f"SELECT 1 FROM failed_articles WHERE url IN ({marks}) LIMIT 1", urls
        ).fetchone():
            return 0
        with self._db:
            return self._db.executemany(
                "DELETE FROM failed_articles WHERE url = ?", [(url,) for url in urls]
            ).rowcount

    def due_failures(self, spider: str, now: datetime, batch: int = 500) -> Iterator[str]:
        """URLs of the spider's failed articles due for a try at ``now``, earliest due first.

        Read ``batch`` rows at a time through the ``(spider, next_attempt, url)`` index, each query
        after the last row of the one before: memory stays flat however long the list is, and no
        read stays open while the crawl writes.
        """
        cursor = ("", "")
        while True:
            rows = self._db.execute(
                "SELECT url, next_attempt FROM failed_articles WHERE spider = ? "
                "AND next_attempt <= ? AND (next_attempt, url) > (?, ?) "
                "ORDER BY next_attempt, url LIMIT ?",
                (spider, _utc(now), *cursor, batch),
            ).fetchall()
            for row in rows:
                yield row["url"]
            if len(rows) < batch:
                return
            cursor = (rows[-1]["next_attempt"], rows[-1]["url"])

    def failed_articles(self, spider: str) -> dict[str, int]:
        """How many of the spider's articles wait for another try, by reason."""
        rows = self._db.execute(
            "SELECT reason, COUNT(*) FROM failed_articles WHERE spider = ? GROUP BY reason "
            "ORDER BY reason",
            (spider,),
        )
        return {reason: count for reason, count in rows}

    def count(self, site: str | None = None) -> int:
        """Number of stored articles (latest versions)."""
        if site is None:
            return self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        return self._db.execute(
            "SELECT COUNT(*) FROM articles WHERE site = ?", (site,)
        ).fetchone()[0]

    def sites(self) -> list[tuple[str, int, str | None, str | None]]:
        """Per site: its id, how many articles, the first and last publication date."""
        return [tuple(row) for row in self._db.execute(
            "SELECT site, COUNT(*), MIN(published), MAX(published) FROM articles "
            "GROUP BY site ORDER BY site")]

    def get(self, canonical_url: str) -> dict | None:
        """The latest version of one article, or None."""
        row = self._db.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE canonical_url = ?", (canonical_url,)
        ).fetchone()
        return _record(row) if row else None

    def versions(self, canonical_url: str) -> list[dict]:
        """Every stored version of one article, oldest first."""
        rows = self._db.execute(
            "SELECT record FROM article_versions WHERE canonical_url = ? ORDER BY version",
            (canonical_url,),
        )
        return [json.loads(row["record"]) for row in rows]

    def iter_articles(
        self, site: str | None = None, since: str | None = None, until: str | None = None
    ) -> Iterator[dict]:
        """Latest versions, oldest publication first; ``since``/``until`` bound ``published``.

        ``since`` and ``until`` are ISO dates (``2020-02-01``); ``until`` is inclusive.
        """
        where, params = fulltext.article_filters(site, since, until)  # as search and export
        query = (f"SELECT {ARTICLE_COLUMNS} FROM articles AS a WHERE 1 = 1{where} "
                 "ORDER BY published, canonical_url")
        for row in backends.stream(self._db, query, params):
            yield _record(row)

    def search(
        self, query: str, site: str | None = None, since: str | None = None,
        until: str | None = None, limit: int = 20,
    ) -> list[fulltext.SearchHit]:
        """The best-ranked articles matching a full-text query (``storage/search.py``)."""
        if not fulltext.has_index(self._db):
            raise fulltext.NoIndexError(
                f"{self.path} has no full-text index yet and is open read-only: open it once "
                "as a user who may write to it (any scrapy command) to build the index")
        self.index_pending()
        return fulltext.search(self._db, query, site, since, until, limit)

    def index_pending(self) -> None:
        """Bring the full-text index up to date before a search (``storage/search.py``).

        A store open read-only cannot: then articles a crawl stored but did not index before
        it stopped (a crash) are missing from the results, and a warning says so.
        """
        if not self.readonly:
            fulltext.index_pending(self._db)
        elif fulltext.has_pending(self._db):
            logger.warning(
                "%s: articles stored by a crawl that did not finish are not in the full-text "
                "index yet; opening the store for writing (any scrapy command) indexes them",
                self.path)

    # --- Assets (images of stored articles) ---------------------------------------------------

    def _has_assets_table(self) -> bool:
        return self._dialect.has_table(self._db, "assets")

    def _add_assets_table(self) -> None:
        if self._has_assets_table():
            return  # no write lock just to open a store
        if self._dialect is not backends.SQLITE:
            # A new database (under the schema lock): no articles predate the table.
            self._db.executescript(_ASSETS_SCHEMA)
            return
        # One transaction: a store never has the table without the images of its old articles.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if not self._has_assets_table():
                for statement in _ASSETS_SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(
                    "INSERT OR IGNORE INTO assets (url, site, article, status) "
                    "SELECT json_extract(image.value, '$.src'), articles.site, "
                    "articles.canonical_url, 'unverified' "
                    "FROM articles, json_each(articles.images) AS image "
                    "WHERE json_extract(image.value, '$.src') IS NOT NULL"
                )
            self._db.commit()
        except BaseException:
            self._db.rollback()
            raise

    def expect_assets(self, site: str, article: str, urls: Iterable[str]) -> list[AssetState]:
        """Record an article's assets as ``pending`` unless known; return the state of each."""
        urls = list(dict.fromkeys(urls))
        with self._db:
            self._db.executemany(
                self._dialect.insert_or_ignore("assets", ("url", "site", "article", "status"),
                                               "VALUES (?, ?, ?, 'pending')"),
                [(url, site, article) for url in urls],
            )
        if not urls:
            return []
        # One read for the article's images, not one per image (half of this call's cost).
        known = {row["url"]: AssetState(**dict(row)) for row in self._db.execute(
            f"SELECT * FROM assets WHERE url IN ({', '.join('?' * len(urls))})", urls)}
        return [known[url] for url in urls if url in known]

    def asset(self, url: str) -> AssetState | None:
        """What the store knows about one asset URL, or None."""
        row = self._db.execute("SELECT * FROM assets WHERE url = ?", (url,)).fetchone()
        return AssetState(**dict(row)) if row else None

    def owed_assets(self, site: str, now: str, page: int = 500) -> Iterator[AssetState]:
        """The site's assets to fetch: ``pending``, or ``failed`` with ``retry_after`` <= ``now``.

        Read ``page`` rows at a time through the ``assets_owed`` index (``now``: ISO 8601 UTC, as
        the store writes times); no read transaction stays open between pages.
        """
        after = ""
        while True:
            rows = self._db.execute(
                f"SELECT * FROM assets WHERE site = ? AND {_OWED} AND url > ? "
                "AND (status = 'pending' OR (status = 'failed' AND retry_after <= ?)) "
                "ORDER BY url LIMIT ?",
                (site, after, now, page),
            ).fetchall()
            for row in rows:
                yield AssetState(**dict(row))
            if len(rows) < page:
                return
            after = rows[-1]["url"]

    def record_asset_archived(self, url: str, site: str, fetched: str, warc: dict) -> None:
        """Remember that a response for ``url`` is archived, and where (a WARC pointer)."""
        self.record_assets_archived(site, [(url, fetched, warc)])

    def record_assets_archived(self, site: str, archived: Iterable[tuple[str, str, dict]]) -> None:
        """`record_asset_archived` for many ``(url, fetched, warc)``, in one transaction."""
        with self._db:
            self._db.executemany(
                "INSERT INTO assets (url, site, status, tried, warc) "
                "VALUES (?, ?, 'archived', ?, ?) ON CONFLICT (url) DO UPDATE SET "
                "status = 'archived', tried = excluded.tried, warc = excluded.warc, "
                "reason = NULL, retry_after = NULL",
                [(url, site, fetched, _json(warc)) for url, fetched, warc in archived],
            )

    def record_asset_failure(
        self, url: str, site: str, reason: str, tried: str, retry_after: str | None
    ) -> None:
        """Count a failed attempt; ``retry_after`` None means given up (never requested again)."""
        status = "failed" if retry_after else "given_up"
        with self._db:
            self._db.execute(
                "INSERT INTO assets (url, site, status, attempts, reason, tried, retry_after) "
                "VALUES (?, ?, ?, 1, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
                "status = excluded.status, attempts = assets.attempts + 1, "
                "reason = excluded.reason, tried = excluded.tried, "
                "retry_after = excluded.retry_after",
                (url, site, status, reason, tried, retry_after),
            )

    def confirm_assets(self, urls: Iterable[str]) -> int:
        """Mark ``unverified`` assets at these URLs as ``archived`` (found in the WARC files)."""
        with self._db:
            cursor = self._db.executemany(
                "UPDATE assets SET status = 'archived' WHERE url = ? AND status = 'unverified'",
                ((url,) for url in urls),
            )
        return cursor.rowcount

    def release_unverified_assets(self, site: str) -> int:
        """Make the site's remaining ``unverified`` assets ``pending``; return how many."""
        with self._db:
            cursor = self._db.execute(
                f"UPDATE assets SET status = 'pending' WHERE site = ? AND {_OWED} "
                "AND status = 'unverified'",
                (site,),
            )
        return cursor.rowcount

    def has_unverified_assets(self, site: str) -> bool:
        """Whether the site has assets of articles stored before assets were tracked."""
        return self._db.execute(
            f"SELECT 1 FROM assets WHERE site = ? AND {_OWED} AND status = 'unverified' LIMIT 1",
            (site,),
        ).fetchone() is not None

    def count_assets(self, site: str | None = None) -> dict[str, int]:
        """Number of assets by status (of one site, or all)."""
        query = "SELECT status, COUNT(*) FROM assets"
        rows = self._db.execute(query + " WHERE site = ? GROUP BY status", (site,)) if site \
            else self._db.execute(query + " GROUP BY status")
        return dict(rows.fetchall())


def same_article(stored: dict, record: dict) -> bool:
    """Whether two records are one article: the same title (spacing and case aside) and at
    least half the paragraphs of the shorter body in common (an edit is still the article).

    Without a body on either side only the titles are compared; with a body on one side only,
    they are different articles, since telling them apart wrongly would lose one of them.
    """
    if _normalized(stored.get("title")) != _normalized(record.get("title")):
        return False
    ours, theirs = _paragraphs(stored.get("body")), _paragraphs(record.get("body"))
    if not ours or not theirs:
        return not ours and not theirs
    return 2 * len(ours & theirs) >= min(len(ours), len(theirs))


def _normalized(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def _paragraphs(body: str | None) -> set[str]:
    return {_normalized(p) for p in (body or "").split("\n\n") if p.strip()}


def _utc(moment: datetime) -> str:
    """A time as ISO 8601 UTC to the microsecond: such strings sort as the times do."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _column_value(record: dict, name: str) -> object:
    value = record.get(name)
    return _json(value) if name in _JSON_FIELDS else value


def _provenance(record: dict) -> dict:
    return {key: value for key, value in record.items() if key not in ARTICLE_FIELDS}


def _record(row: sqlite3.Row) -> dict:  # or a PostgreSQL row, read alike
    record = {}
    for name in ARTICLE_FIELDS:
        value = row[name]
        record[name] = json.loads(value) if name in _JSON_FIELDS and value is not None else value
    if row[_EXTRA_COLUMN]:
        record.update(json.loads(row[_EXTRA_COLUMN]))
    return record
