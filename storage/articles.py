"""The article store: clean Article records in SQLite, one row per canonical URL, all versions.

``ArticleStore.upsert`` compares the record's ``content_hash`` with the stored one: a new URL is
stored as version 1, an unchanged article only has its fetch time and WARC pointer refreshed, and a
changed article becomes version N+1 while ``article_versions`` keeps every earlier version, so a
researcher can see what changed. The file is an ordinary SQLite database (WAL mode) that
researchers may query directly; list fields are JSON text.

For incremental crawls the store also remembers how each URL was last fetched (``fetch_state``:
``ETag``, ``Last-Modified``, the sitemap ``lastmod`` that led to it, when and with what status) and
every crawl run (``crawl_runs``: start, end, finish reason), so the next run can send conditional
requests and skip what the portal says is unchanged.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
"""


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


@dataclass(frozen=True)
class UpsertResult:
    """What ``upsert`` did: ``status`` is ``new``, ``updated`` or ``unchanged``."""

    status: str
    version: int


class ArticleStore:
    """SQLite-backed store of Article records."""

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
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
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Commit and close the database (a second call does nothing)."""
        if self._db is None:
            return
        self._db.commit()
        self._db.close()
        self._db = None

    def __enter__(self) -> ArticleStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def upsert(self, record: dict) -> UpsertResult:
        """Store a record by its canonical URL (``url`` when it has none) and commit."""
        record = dict(record)
        record["canonical_url"] = record.get("canonical_url") or record["url"]
        if not record.get("content_hash"):
            raise ValueError(f"article {record['url']} has no content_hash")
        key = record["canonical_url"]
        row = self._db.execute(
            "SELECT version, content_hash, first_fetched FROM articles WHERE canonical_url = ?",
            (key,),
        ).fetchone()
        with self._db:
            if row is not None and row["content_hash"] == record["content_hash"]:
                self._db.execute(
                    "UPDATE articles SET fetched = ?, warc = ?, url = ? WHERE canonical_url = ?",
                    (record.get("fetched"), _json(record.get("warc")), record["url"], key),
                )
                return UpsertResult("unchanged", row["version"])
            version = 1 if row is None else row["version"] + 1
            record["version"] = version
            first_fetched = record.get("fetched") if row is None else row["first_fetched"]
            columns = (*ARTICLE_FIELDS, _EXTRA_COLUMN, "first_fetched")
            values = [_column_value(record, name) for name in ARTICLE_FIELDS]
            values += [_json(_provenance(record)), first_fetched]
            self._db.execute(
                f"INSERT OR REPLACE INTO articles ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})",
                values,
            )
            self._db.execute(
                "INSERT OR REPLACE INTO article_versions VALUES (?, ?, ?, ?, ?)",
                (key, version, record["content_hash"], record.get("fetched"),
                 json.dumps(record, ensure_ascii=False)),
            )
        return UpsertResult("new" if row is None else "updated", version)

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

    def record_fetch(self, state: FetchState) -> None:
        """Remember how a URL was fetched; a ``lastmod`` or validator not given is kept."""
        with self._db:
            self._db.execute(
                "INSERT INTO fetch_state (url, status, etag, last_modified, lastmod, fetched) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
                "status = excluded.status, fetched = excluded.fetched, "
                "etag = COALESCE(excluded.etag, etag), "
                "last_modified = COALESCE(excluded.last_modified, last_modified), "
                "lastmod = COALESCE(excluded.lastmod, lastmod)",
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
            self._db.execute(
                "INSERT OR REPLACE INTO crawl_runs (run_id, spider, started) VALUES (?, ?, ?)",
                (run_id, spider, started),
            )

    def finish_run(self, run_id: str, finished: str, reason: str) -> None:
        """Record how a crawl run ended (``reason``: Scrapy's finish reason)."""
        with self._db:
            self._db.execute(
                "UPDATE crawl_runs SET finished = ?, reason = ? WHERE run_id = ?",
                (finished, reason, run_id),
            )

    def last_finished_run(self, spider: str) -> tuple[str, str] | None:
        """Start and end of the spider's last run that ended with reason ``finished``, or None."""
        row = self._db.execute(
            "SELECT started, finished FROM crawl_runs WHERE spider = ? AND reason = 'finished' "
            "ORDER BY started DESC LIMIT 1",
            (spider,),
        ).fetchone()
        return None if row is None else (row["started"], row["finished"])

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
            "SELECT * FROM articles WHERE canonical_url = ?", (canonical_url,)
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
        clauses, params = [], []
        if site:
            clauses.append("site = ?")
            params.append(site)
        if since:
            clauses.append("published >= ?")
            params.append(since)
        if until:
            # Inclusive of the whole day: ISO strings of that day sort below the next character.
            clauses.append("published < ?")
            params.append(until + "\uffff")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        query = f"SELECT * FROM articles {where} ORDER BY published, canonical_url"
        for row in self._db.execute(query, params):
            yield _record(row)


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _column_value(record: dict, name: str) -> object:
    value = record.get(name)
    return _json(value) if name in _JSON_FIELDS else value


def _provenance(record: dict) -> dict:
    return {key: value for key, value in record.items() if key not in ARTICLE_FIELDS}


def _record(row: sqlite3.Row) -> dict:
    record = {}
    for name in ARTICLE_FIELDS:
        value = row[name]
        record[name] = json.loads(value) if name in _JSON_FIELDS and value is not None else value
    if row[_EXTRA_COLUMN]:
        record.update(json.loads(row[_EXTRA_COLUMN]))
    return record
