"""The article store as Datasette serves it: a browsing view, the metadata, the canned queries.

``scrapy browse`` (``crawler/commands/browse.py``) serves the SQLite store read-only with
Datasette. This module holds everything that names the store's tables and columns for it:

* `add_views` adds the view ``article_list`` (one row per article, with its ``month`` and
  ``year`` of publication and its WARC capture spelled out) to the store: facets need a column
  for the month, and a view adds one without touching the articles. It is the one thing
  browsing writes, once (again only when this module's definition changes);
* `metadata` is Datasette's metadata: titles, descriptions of every field, a licence
  placeholder, facets (site, section, author - a JSON list, so an array facet -, month, year),
  full-text search through ``articles_fts`` when the store has it, and the canned queries
  (`CANNED_QUERIES`): articles per month, an article's versions, articles whose dates disagree,
  failed URLs by reason.

Months are the publication month as the page printed it: the first seven characters of the
local ISO 8601 ``published``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage import search as fulltext
from storage.articles import ArticleStore
from storage.dataset_card import FIELDS
from storage.search import fold_sql

LIST_VIEW = "article_list"
FTS_TABLE = "articles_fts"

# Stored as written: SQLite keeps a view's CREATE statement verbatim, which is how `add_views`
# sees that a store has an older definition.
_LIST_VIEW_SQL = f"""CREATE VIEW {LIST_VIEW} AS SELECT
    rowid AS article_id, site, section, substr(published, 1, 7) AS month,
    substr(published, 1, 4) AS year, published, modified, title, authors, credit, lead, body,
    tags, url, canonical_url, version, first_fetched, fetched,
    json_extract(warc, '$.filename') AS warc_file, json_extract(warc, '$.offset') AS warc_offset,
    json_extract(warc, '$.record_id') AS warc_record_id, content_hash, language,
    json_extract(provenance, '$.published_source') AS published_source,
    json_extract(provenance, '$.dates_disagree') AS dates_disagree
FROM articles"""

# One source for what a field means: the dataset card's definitions (storage/dataset_card.py),
# plus what only the browsing view has (JSON encodings, the view's derived columns).
_BROWSE_ONLY: dict[str, str] = {
    "authors": "People named in the byline, in order (a JSON list).",
    "tags": "The page's keyword links (a JSON list).",
    "images": "Images: src, caption, credit (a JSON list).",
    "provenance": "How each value was found (published_source, dates_disagree, fallback…).",
    "month": "Publication month (YYYY-MM) as the page printed it (local time).",
    "year": "Publication year as the page printed it.",
    "article_id": "Row id of the article in the store.",
    "warc_file": "WARC file of the latest capture.",
    "warc_offset": "Byte offset of its record in the WARC file.",
    "warc_record_id": "WARC-Record-ID of the capture.",
    "dates_disagree": "1 when two of the page's date sources differ by more than a day.",
}
FIELD_DESCRIPTIONS: dict[str, str] = {
    **{name: meaning[0].upper() + meaning[1:] + "." for name, (_, meaning) in FIELDS.items()},
    **_BROWSE_ONLY,
}

# Dates that disagree: the page's own sources (the parser's flag), a modification before the
# publication, or a date in the URL (/YYYYMM/, /YYYY/MM/DD/, /YYYY/MM/) that is not the
# publication's. GLOB, not REGEXP: SQLite has no regular expressions of its own.
_URL_MONTH = "url GLOB '*/[12][0-9][0-9][0-9][01][0-9]/*'"
_URL_DAY = "url GLOB '*/[12][0-9][0-9][0-9]/[01][0-9]/[0-3][0-9]/*'"
_URL_YEAR_MONTH = "url GLOB '*/[12][0-9][0-9][0-9]/[01][0-9]/*'"
_DATES_DISAGREE_SQL = f"""SELECT * FROM (SELECT canonical_url, site, section, title, published,
  modified,
  CASE
    WHEN julianday(modified) < julianday(published) THEN 'modified before published'
    WHEN {_URL_DAY} AND instr(url, '/' || replace(substr(published, 1, 10), '-', '/') || '/') = 0
      THEN 'URL date is another day'
    WHEN {_URL_MONTH} AND instr(url, '/' || replace(substr(published, 1, 7), '-', '') || '/') = 0
      THEN 'URL month is another month'
    WHEN {_URL_YEAR_MONTH} AND NOT {_URL_DAY}
      AND instr(url, '/' || replace(substr(published, 1, 7), '-', '/') || '/') = 0
      THEN 'URL month is another month'
    WHEN json_extract(provenance, '$.dates_disagree') THEN 'the page''s date sources disagree'
  END AS disagreement,
  json_extract(provenance, '$.published_source') AS published_source, url
FROM articles WHERE published IS NOT NULL AND (:site = '' OR site = :site))
WHERE disagreement IS NOT NULL ORDER BY site, published"""

CANNED_QUERIES: dict[str, dict] = {
    "search": {
        "title": "Search the text (diacritics optional)",
        "description": "Full-text search of title, lead and body: 'nong thon moi' and 'Đại hội' "
                       "both work (Datasette's own search box passes đ through unfolded, so "
                       "'Đại hội' finds nothing there). Phrases in double quotes, prefix*.",
        "sql": "SELECT a.canonical_url, a.site, a.section, a.published, a.title, "
               "snippet(articles_fts, -1, '[', ']', '…', 12) AS snippet "
               f"FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
               f"WHERE articles_fts MATCH {fold_sql(':q')} "
               "AND (:site = '' OR a.site = :site) ORDER BY rank",
    },
    "articles_per_month": {
        "title": "Articles per month",
        "description": "How many articles each site published each month (empty site: all).",
        "sql": "SELECT site, substr(published, 1, 7) AS month, COUNT(*) AS articles "
               "FROM articles WHERE published IS NOT NULL AND (:site = '' OR site = :site) "
               "GROUP BY site, month ORDER BY site, month",
    },
    "article_versions": {
        "title": "An article's versions",
        "description": "Every stored version of one article (give its URL or canonical URL), "
                       "oldest first, with its fetch time and WARC capture.",
        "sql": "SELECT version, fetched, content_hash, json_extract(record, '$.title') AS title, "
               "json_extract(record, '$.published') AS published, "
               "json_extract(record, '$.modified') AS modified, "
               "json_extract(record, '$.warc.filename') AS warc_file, "
               "json_extract(record, '$.warc.offset') AS warc_offset, "
               "json_extract(record, '$.warc.record_id') AS warc_record_id, "
               "json_extract(record, '$.lead') AS lead, json_extract(record, '$.body') AS body "
               "FROM article_versions WHERE canonical_url = :url OR canonical_url IN "
               "(SELECT canonical_url FROM articles WHERE url = :url) ORDER BY version",
    },
    "dates_disagree": {
        "title": "Articles whose dates disagree",
        "description": "Modified before published, a URL dated another day or month than the "
                       "publication, or date sources on the page more than a day apart "
                       "(empty site: all).",
        "sql": _DATES_DISAGREE_SQL,
    },
    "failures_by_reason": {
        "title": "Failed article URLs by reason",
        "description": "Article URLs that failed and wait for another try, per site and reason.",
        "sql": "SELECT spider, reason, COUNT(*) AS urls, MIN(first_failed) AS first_failed, "
               "MAX(last_failed) AS last_failed FROM failed_articles "
               "GROUP BY spider, reason ORDER BY urls DESC",
    },
}

_FACETS = ["site", "section", {"array": "authors"}, "month", "year"]


def add_views(path: Path) -> str | None:
    """Create (or bring up to date) the view `LIST_VIEW` in the store at ``path``.

    Return None when the store has the view, else why it could not be added (a read-only file
    or folder); an older definition of the view is kept when it cannot be replaced.
    """
    with ArticleStore(path, readonly=True) as store:
        stored = store._db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?", (LIST_VIEW,)
        ).fetchone()
    if stored is not None and stored[0] == _LIST_VIEW_SQL:
        return None
    try:
        db = sqlite3.connect(path)
        try:
            with db:
                db.execute(f"DROP VIEW IF EXISTS {LIST_VIEW}")
                db.execute(_LIST_VIEW_SQL)
        finally:
            db.close()
    except sqlite3.OperationalError as error:
        return None if stored is not None else str(error)
    return None


def index_pending(path: Path) -> None:
    """Index articles a crawl stored but did not index before it stopped (`storage/search.py`),
    so Datasette's search finds them; a store that may not be written is served as it is."""
    try:
        db = sqlite3.connect(path)
        try:
            fulltext.index_pending(db)
        finally:
            db.close()
    except sqlite3.OperationalError:
        pass


def has_table(path: Path, name: str) -> bool:
    """Whether the store at ``path`` has a table (or virtual table) called ``name``."""
    with ArticleStore(path, readonly=True) as store:
        return store._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone() is not None


def metadata(database: str, with_view: bool = True, with_fts: bool = False) -> dict:
    """Datasette's metadata for the store served as ``database`` (its name in the URLs).

    ``with_view``: the store has `LIST_VIEW`; ``with_fts``: it has the full-text index
    `FTS_TABLE` (rowids those of ``articles``), searched from the view and the table.
    """
    columns = {name: text for name, text in FIELD_DESCRIPTIONS.items()}
    search = {"fts_table": FTS_TABLE} if with_fts else {}
    tables: dict[str, dict] = {
        "articles": {
            "title": "Articles (latest version, all columns)",
            "description": "One row per article (its canonical URL); list fields are JSON. "
                           "Earlier versions are in article_versions.",
            "columns": {name: columns[name] for name in (
                "url", "canonical_url", "site", "title", "lead", "body", "published",
                "modified", "authors", "credit", "section", "tags", "images", "language",
                "fetched", "warc", "content_hash", "version", "provenance", "first_fetched")},
            "sort_desc": "published",
            "facets": ["site", "section", {"array": "authors"}],
            **search,
        },
        "article_versions": {
            "title": "Every stored version of every article",
            "description": "record is the whole Article record of that version, as JSON.",
            "columns": {"canonical_url": columns["canonical_url"],
                        "version": columns["version"], "content_hash": columns["content_hash"],
                        "fetched": "When this version was fetched, UTC.",
                        "record": "The Article record of this version (JSON)."},
        },
        "failed_articles": {
            "title": "Article URLs that failed",
            "description": "Waiting for another try by a later crawl, with a growing delay.",
        },
        "crawl_runs": {"title": "Crawl runs", "description": "Every crawl: start, end, outcome."},
        "fetch_state": {"title": "How each URL was last fetched (crawler bookkeeping)"},
        "assets": {"title": "Images of the articles and whether they are archived"},
    }
    if with_view:
        view_columns = ("article_id", "site", "section", "month", "year", "published",
                        "modified", "title", "authors", "credit", "lead", "body", "tags", "url",
                        "canonical_url", "version", "first_fetched", "fetched", "warc_file",
                        "warc_offset", "warc_record_id", "content_hash", "language",
                        "published_source", "dates_disagree")
        tables[LIST_VIEW] = {
            "title": "Articles",
            "description": "One row per article (latest version), newest first: facet by "
                           "site, section, author, month or year; filter any column; search "
                           "the text; download what you see as CSV or JSON.",
            "columns": {name: columns[name] for name in view_columns},
            "sort_desc": "published",
            "facets": _FACETS,
            **({"fts_table": FTS_TABLE, "fts_pk": "article_id"} if with_fts else {}),
        }
    return {
        "title": "Provincial news archive",
        "description": "Articles archived from Vietnamese provincial news portals, each linked "
                       "to its WARC capture. Start with the Articles table.",
        "license": "Rights statement to fill in (see docs/researcher.md)",
        "source": "provincial-news-archiver",
        "databases": {
            database: {
                "title": "Article store",
                "tables": tables,
                "queries": CANNED_QUERIES,
            }
        },
    }
