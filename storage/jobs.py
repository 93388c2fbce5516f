"""The job history: every crawl run of the store's ``crawl_runs`` table, with its summary.

``crawl_runs`` already holds one row per crawl (start, end, Scrapy's finish reason, outcome,
whether it was complete: ``crawler/middlewares/fetch_state.py``). The job history adds, when the
crawl ends (``crawler/extensions/summary.py``), what the morning check needs in the same row:

* ``site`` - the site id (a profile's id, or the portal spider's site key);
* ``job`` - the scrapyd job id (its ``_job`` argument), empty for a crawl run by hand;
* ``exit_code`` - as ``scrapy crawl`` exits (0, 3 incomplete, 4 failed);
* ``summary`` - the crawl summary as JSON (pages, articles new/updated/unchanged, failures by
  reason, fill rates, WARC files …, see ``crawler.extensions.summary.summarize``);
* ``flags`` - a JSON list of why the crawl falls far below the site's usual
  (``crawler/scheduling/health.py``), empty when it does not.

A run whose row has no end was killed, or is still running. `setup_schema` is called by
``ArticleStore`` when it opens a store, so stores written before the history existed gain the
columns (nothing is reshaped).
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from storage.backends import add_columns, dialect_of

# (column, declaration) added to crawl_runs.
_JOB_COLUMNS: tuple[tuple[str, str], ...] = (
    ("site", "TEXT"),
    ("job", "TEXT"),
    ("exit_code", "INTEGER"),
    ("summary", "TEXT"),
    ("flags", "TEXT"),
)
# Outcomes a morning check looks at; ``complete``, ``bounded`` and ``interrupted`` are normal.
BAD_STATUSES = ("failed", "incomplete")


def setup_schema(db: sqlite3.Connection) -> None:
    """Add the job-history columns (and their index) to ``crawl_runs`` where missing."""
    columns = dialect_of(db).columns(db, "crawl_runs")
    if all(name in columns for name, _ in _JOB_COLUMNS):
        return  # no write lock just to open a store
    add_columns(db, "crawl_runs", _JOB_COLUMNS)
    with db:
        db.execute("CREATE INDEX IF NOT EXISTS crawl_runs_site ON crawl_runs (site, started)")


@dataclass(frozen=True)
class Job:
    """One crawl of the history: when, how it ended, and its summary's figures."""

    run_id: str
    spider: str
    site: str | None
    job: str | None
    started: str
    finished: str | None
    reason: str | None
    status: str | None
    exit_code: int | None
    summary: dict = field(default_factory=dict)
    flags: tuple[str, ...] = ()

    @property
    def needs_a_look(self) -> bool:
        """Failed, incomplete, flagged, or never ended (killed, or still running)."""
        return self.finished is None or self.status in BAD_STATUSES or bool(self.flags)


class JobHistory:
    """Read and write the job history of one article store."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        columns = dialect_of(db).columns(db, "crawl_runs")
        # A store opened read-only may predate the history: its runs show without summaries.
        self._has_columns = all(name in columns for name, _ in _JOB_COLUMNS)

    @classmethod
    def of(cls, store) -> JobHistory:
        """The history kept in an open ``storage.articles.ArticleStore``."""
        return cls(store._db)

    def record(
        self, run_id: str | None, *, spider: str, site: str, job: str | None, started: str,
        finished: str, reason: str, status: str, exit_code: int, summary: dict,
        flags: Iterable[str],
    ) -> str:
        """Write a finished crawl's summary into its run's row; return the run id.

        The row is normally there (the crawl's start was recorded); a crawl whose run was not
        recorded (``run_id`` None or unknown) gets a row of its own, never trusted as complete.
        """
        values = (site, job, exit_code, json.dumps(summary, ensure_ascii=False),
                  json.dumps(list(flags), ensure_ascii=False))
        with self._db:
            updated = run_id is not None and self._db.execute(
                "UPDATE crawl_runs SET site = ?, job = ?, exit_code = ?, summary = ?, flags = ? "
                "WHERE run_id = ?", (*values, run_id)).rowcount
            if not updated:
                run_id = run_id or uuid.uuid4().hex
                self._db.execute(
                    "INSERT INTO crawl_runs (run_id, spider, started, finished, reason, status, "
                    "site, job, exit_code, summary, flags) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, spider, started, finished, reason, status, *values))
        return run_id

    def jobs(
        self, site: str | None = None, needs_a_look: bool = False, limit: int | None = 20,
        exclude: str | None = None,
    ) -> list[Job]:
        """The latest crawls, newest first: of one site, only those that need a look, or all.

        ``exclude`` leaves one run out (the crawl being judged, when it reads its baseline).
        """
        clauses, params = [], []
        if site:
            clauses.append("site = ?" if self._has_columns else "spider = ?")
            params.append(site)
        if exclude:
            clauses.append("run_id != ?")
            params.append(exclude)
        if needs_a_look:
            look = f"finished IS NULL OR status IN ({', '.join('?' for _ in BAD_STATUSES)})"
            params.extend(BAD_STATUSES)
            if self._has_columns:
                look += " OR (flags IS NOT NULL AND flags != '[]')"
            clauses.append(f"({look})")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        columns = "*" if self._has_columns else (
            "*, NULL AS site, NULL AS job, NULL AS exit_code, NULL AS summary, NULL AS flags")
        query = f"SELECT {columns} FROM crawl_runs {where} ORDER BY started DESC"
        if limit:
            query += f" LIMIT {int(limit)}"
        return [_job(row) for row in self._db.execute(query, params)]

    def sites(self) -> set[str]:
        """The sites with crawls in the history."""
        column = "site" if self._has_columns else "spider"
        return {row[0] for row in self._db.execute(
            f"SELECT DISTINCT {column} FROM crawl_runs WHERE {column} IS NOT NULL")}


def _job(row: sqlite3.Row) -> Job:
    def field_of(name: str):
        return row[name] if name in row.keys() else None

    return Job(
        run_id=row["run_id"], spider=row["spider"], site=field_of("site") or row["spider"],
        job=field_of("job"), started=row["started"], finished=row["finished"],
        reason=row["reason"], status=field_of("status"), exit_code=field_of("exit_code"),
        summary=json.loads(field_of("summary") or "{}"),
        flags=tuple(json.loads(field_of("flags") or "[]")),
    )


def warc_files_of_crawl(warc_dir: Path, prefix: str, started: str) -> list[str]:
    """Names of the WARC files a crawl opened: its prefix, named at or after its start.

    A file is named ``<prefix>-<UTC %Y%m%d%H%M%S%f>-<serial>-<host>.warc.gz`` when opened
    (``storage/warc.py``); a file still ``.open`` is named as it will be when closed. Two crawls
    of one prefix never run at once (``scrapy schedule`` starts none while one runs).
    """
    stamp = re.sub(r"\D", "", started)[:14]
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d{{20}})-\d+-.*\.warc(\.gz)?(\.open)?$")
    names = []
    for path in sorted(warc_dir.glob(f"{prefix}-*")) if warc_dir.is_dir() else []:
        match = pattern.match(path.name)
        if match and match.group(1)[:14] >= stamp:
            names.append(path.name.removesuffix(".open"))
    return names
