"""A private, throwaway PostgreSQL cluster for the tests: initdb and pg_ctl in a temporary folder.

The server listens on a unix socket inside that folder only (no TCP port to collide with), with
durability switched off (nothing in it outlives the session). PostgreSQL refuses to run as root,
so as root (CI) the cluster belongs to the ``postgres`` system user (Debian's package makes it)
or ``nobody``. `PostgresCluster.database` creates an empty database per test. A session killed
before its teardown leaves its cluster running: the next cluster started stops and removes every
cluster whose test process (``owner.pid`` in its folder) is gone.

Binaries are found on ``PATH`` (``pg_ctl``) or under ``/usr/lib/postgresql/<version>/bin``
(Debian's ``postgresql`` package, which ``make install`` installs as root when missing).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

PORT = 5432  # the socket's name only: it lives in the cluster's own folder
_PREFIX = "pg-test-cluster-"


def find_bindir() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``, or None when PostgreSQL is not installed."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                      key=lambda path: int(path.parent.parent.name)
                      if path.parent.parent.name.isdigit() else 0)
    return versions[-1].parent if versions else None


class PostgresCluster:
    """A running cluster in a temporary folder; `stop` removes everything."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self._user = None
        for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
            self._remove_orphan(folder)
        self.folder = Path(tempfile.mkdtemp(prefix=_PREFIX))
        (self.folder / "owner.pid").write_text(str(os.getpid()))
        self.data = self.folder / "data"
        self._numbers = itertools.count(1)
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    self._user = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
            os.chown(self.folder, self._user.pw_uid, self._user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        options = (f"-c listen_addresses='' -c unix_socket_directories={self.folder} "
                   f"-p {PORT} -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.folder / "server.log"), "-w", "start")

    def _remove_orphan(self, folder: Path) -> None:
        """Stop and remove a cluster left by a test process that no longer runs."""
        try:
            owner = int((folder / "owner.pid").read_text())
            os.kill(owner, 0)
            return  # its session still runs
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            return  # not one of ours, or not readable
        subprocess.run([str(self.bindir / "pg_ctl"), "-D", str(folder / "data"), "-m",
                        "immediate", "-w", "stop"], capture_output=True,
                       user=folder.stat().st_uid if os.geteuid() == 0 else None)
        shutil.rmtree(folder, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self._user is not None:
            command = ["runuser", "-u", self._user.pw_name, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if result.returncode:
            log = self.folder / "server.log"
            raise RuntimeError(f"{program} failed: {result.stderr.strip()} "
                               f"{log.read_text()[-2000:] if log.exists() else ''}")

    def url(self, database: str = "postgres") -> str:
        """The URL of one database of the cluster."""
        return f"postgresql://postgres@/{database}?host={self.folder}&port={PORT}"

    def database(self) -> str:
        """The URL of a new, empty database."""
        import psycopg

        name = f"store_{next(self._numbers)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
