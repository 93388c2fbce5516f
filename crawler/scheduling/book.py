"""The schedule as data in the archive directory: its entries and the runner's state.

``<ARCHIVE_DIR>/schedule/`` holds:

* ``entries.json`` - what to crawl when, edited by ``scrapy schedule add`` / ``remove``: per entry
  its ``id``, ``spider``, spider ``args``, per-entry ``settings``, ``every`` (``timing.py``),
  ``timezone``, ``scrapyd`` URL (empty: the default), the portal ``host`` it crawls and when it
  was ``created``;
* ``state.json`` - what the runner did, written only by it: per entry the occurrence it last
  launched (``last_due``), that launch's scrapyd ``job`` id, whether scrapyd confirmed it
  (``posted``), when, and why a due entry waits; and the time of the last launch;
* ``runner.lock`` - held by the one runner of this schedule; ``edit.lock`` - held while the
  entries are rewritten.

Both files are replaced atomically (written aside, fsynced, renamed), so a runner killed at any
moment leaves the last whole state: restarted, it knows every job it launched. Times are ISO
8601 UTC. A file that cannot be read is one :class:`ScheduleError` line naming it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

VERSION = 1


class ScheduleError(ValueError):
    """The schedule's files cannot be used; the message names the file and why."""


@dataclass(frozen=True)
class Entry:
    """One recurring crawl."""

    id: str
    spider: str
    every: str
    timezone: str
    host: str
    created: str
    args: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    scrapyd: str = ""


class ScheduleBook:
    """The entries and runner state of one archive's schedule."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.entries_file = self.directory / "entries.json"
        self.state_file = self.directory / "state.json"

    def entries(self) -> list[Entry]:
        """Every entry, in the order they were added."""
        data = self._read(self.entries_file, {"entries": []})
        try:
            return [Entry(**entry) for entry in data["entries"]]
        except (KeyError, TypeError) as error:
            raise ScheduleError(f"{self.entries_file}: not a schedule ({error})") from None

    def add(self, entry: Entry) -> None:
        """Add an entry; an id already there is refused."""
        with self._editing():
            entries = self.entries()
            if any(existing.id == entry.id for existing in entries):
                raise ScheduleError(f"an entry {entry.id!r} is already in {self.entries_file}")
            self._write(self.entries_file, {"version": VERSION, "entries": [
                asdict(existing) for existing in [*entries, entry]]})

    def remove(self, entry_id: str) -> Entry:
        """Remove an entry (its state goes when the runner next writes); return it."""
        with self._editing():
            entries = self.entries()
            kept = [entry for entry in entries if entry.id != entry_id]
            if len(kept) == len(entries):
                known = ", ".join(entry.id for entry in entries) or "none"
                raise ScheduleError(f"no entry {entry_id!r} in {self.entries_file} "
                                    f"(entries: {known})")
            self._write(self.entries_file, {"version": VERSION,
                                            "entries": [asdict(entry) for entry in kept]})
        return next(entry for entry in entries if entry.id == entry_id)

    def state(self) -> dict:
        """The runner's state: ``{"last_launch": ISO or None, "entries": {id: {...}}}``."""
        data = self._read(self.state_file, {})
        data.setdefault("last_launch", None)
        data.setdefault("entries", {})
        return data

    def save_state(self, state: dict) -> None:
        """Replace the runner's state atomically."""
        self._write(self.state_file, {"version": VERSION, **state})

    @contextlib.contextmanager
    def runner_lock(self) -> Iterator[None]:
        """Hold the lock of the one runner of this schedule, or refuse in one line."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / "runner.lock"
        with open(path, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ScheduleError(f"another `scrapy schedule run` runs this schedule ({path} "
                                    "is locked)") from None
            yield

    @contextlib.contextmanager
    def _editing(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "edit.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    @staticmethod
    def _read(path: Path, default: dict) -> dict:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return default
        except (OSError, ValueError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise ScheduleError(f"cannot read {path}: {reason}") from None
        if not isinstance(data, dict):
            raise ScheduleError(f"cannot read {path}: not a JSON object")
        return data

    @staticmethod
    def _write(path: Path, data: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with open(partial, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time of the state, or None."""
    return datetime.fromisoformat(value) if value else None
