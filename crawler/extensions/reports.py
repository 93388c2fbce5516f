"""Where a crawl's reports go: a folder of its own per crawl, the latest copied to fixed paths.

Every crawl that opens writes its failure report and its summary into
``<CRAWL_REPORTS_DIR>/<spider>-<start, UTC>/`` (``failures.jsonl`` as it goes, ``summary.json`` at
the end), so no crawl overwrites the report of an earlier one. When the crawl ends, each file is
copied to its old path (``FAILURES_FILE``, ``CRAWL_SUMMARY_FILE``: ``failures.jsonl`` and
``last-crawl.json`` in ``ARCHIVE_DIR``) by an atomic rename, so those always hold a whole report of
the latest crawl that ended; a crawl that never opened, or that was killed, leaves them alone.

Reads no settings; the failure report and the summary pass ``CRAWL_REPORTS_DIR`` (the folder of
per-crawl reports, default ``<ARCHIVE_DIR>/reports``, ``crawler/paths.py``).

The failure report and the summary share the crawl's folder through the ``report/dir`` stat.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

REPORT_DIR_STAT = "report/dir"


def crawl_report_dir(stats, root: Path, spider_name: str) -> Path:
    """This crawl's report folder, created by the first component that asks for it."""
    existing = stats.get_value(REPORT_DIR_STAT)
    if existing:
        return Path(existing)
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(1, 1000):
        folder = root / (f"{spider_name}-{stamp}" + (f"-{attempt}" if attempt > 1 else ""))
        try:
            folder.mkdir()
        except FileExistsError:  # two crawls started within one second
            continue
        stats.set_value(REPORT_DIR_STAT, str(folder))
        return folder
    raise RuntimeError(f"cannot create a report folder in {root}")


def publish(source: Path, target: Path) -> None:
    """Copy a finished report to its fixed path, atomically: readers see the old or the new."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
