"""Where an archive keeps its files: every path resolved from the settings in one place.

``ARCHIVE_DIR`` (default ``archive``) is the root; each other path defaults to a place under it
and may be set on its own:

* ``ARTICLES_DB`` - the article store (``<ARCHIVE_DIR>/articles.sqlite3``), unless
  ``DATABASE_URL`` names a PostgreSQL database (then ``articles_db`` is that
  `storage.backends.DatabaseUrl`: it opens like the file, see ``storage/backends/``);
* ``WARC_DIR`` - the WARC files (``<ARCHIVE_DIR>/warc``);
* ``WARC_DIGEST_DB`` - the payload-digest index of ``WARC_DEDUP``
  (``<ARCHIVE_DIR>/warc-digests.sqlite3``);
* ``CRAWL_REPORTS_DIR`` - one report folder per crawl (``<ARCHIVE_DIR>/reports``);
* ``FAILURES_FILE`` / ``CRAWL_SUMMARY_FILE`` - the latest crawl's failure report and summary
  (``<ARCHIVE_DIR>/failures.jsonl``, ``<ARCHIVE_DIR>/last-crawl.json``; empty: not written);
* ``JOBDIR`` - Scrapy's job directory; the portal spider defaults it to
  ``<ARCHIVE_DIR>/jobs/<spider name>`` (`default_jobdir`); empty: no job state.

Not settings, but under the root too: the CDXJ index (``index.cdxj``), ``scrapy sitecheck``'s
baselines (``sitecheck/<site_id>.json``) and ``scrapy schedule``'s entries and state
(``schedule/``).

Components build `ArchivePaths` once, in ``from_crawler`` (commands: at the start of ``run``),
and keep the paths they need; nothing else computes a path from these settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage.backends import DatabaseUrl, store_location

DEFAULT_ARCHIVE_DIR = "archive"


def _optional(settings, name: str, default: Path) -> Path | None:
    """A file setting that an empty value switches off: unset gives ``default``."""
    configured = settings.get(name)
    if configured is None:
        return default
    return Path(configured) if configured else None


def default_jobdir(settings, spider_name: str) -> Path:
    """The job directory of a spider's crawls when ``JOBDIR`` is not set."""
    return Path(settings.get("ARCHIVE_DIR") or DEFAULT_ARCHIVE_DIR) / "jobs" / spider_name


@dataclass(frozen=True)
class ArchivePaths:
    """The paths of one archive, as the settings name them (see the module docstring)."""

    root: Path
    articles_db: Path | DatabaseUrl
    warc_dir: Path
    digest_db: Path
    reports_dir: Path
    failures_file: Path | None
    summary_file: Path | None
    jobdir: Path | None

    @classmethod
    def from_settings(cls, settings) -> ArchivePaths:
        """Resolve every path from ``settings`` (a Scrapy ``Settings``)."""
        root = Path(settings.get("ARCHIVE_DIR") or DEFAULT_ARCHIVE_DIR)
        return cls(
            root=root,
            articles_db=store_location(
                settings.get("DATABASE_URL"),
                Path(settings.get("ARTICLES_DB") or root / "articles.sqlite3")),
            warc_dir=Path(settings.get("WARC_DIR") or root / "warc"),
            digest_db=Path(settings.get("WARC_DIGEST_DB") or root / "warc-digests.sqlite3"),
            reports_dir=Path(settings.get("CRAWL_REPORTS_DIR") or root / "reports"),
            failures_file=_optional(settings, "FAILURES_FILE", root / "failures.jsonl"),
            summary_file=_optional(settings, "CRAWL_SUMMARY_FILE", root / "last-crawl.json"),
            jobdir=Path(settings["JOBDIR"]) if settings.get("JOBDIR") else None,
        )

    @property
    def index_file(self) -> Path:
        """The CDXJ index ``scrapy index`` writes by default."""
        return self.root / "index.cdxj"

    def sitecheck_file(self, site_id: str) -> Path:
        """The fill rates ``scrapy sitecheck`` last accepted for a site."""
        return self.root / "sitecheck" / f"{site_id}.json"

    @property
    def schedule_dir(self) -> Path:
        """The recurring crawls of ``scrapy schedule`` and its runner's state."""
        return self.root / "schedule"
