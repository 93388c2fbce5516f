"""Run the replica portal as a subprocess, for tests and demos that need a real HTTP server.

    with ReplicaProcess() as replica:
        urllib.request.urlopen(replica.origin + "/robots.txt")

A subprocess keeps the server's Twisted reactor apart from the one Scrapy runs in the test
process, and lets a test crawl it exactly as it would crawl the real portal.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


class ReplicaProcess:
    """A `python -m tests.replica` subprocess on loopback; `origin` is set once it listens."""

    def __init__(
        self,
        seed: int = 2020,
        articles: int = 240,
        port: int = 0,
        host: str = "127.0.0.1",
        faults: list[str] | None = None,
        edition: int = 1,
        extra_args: list[str] | None = None,
        layout: str | None = None,
    ) -> None:
        """Describe the server to run; nothing starts until `start()` or `with`.

        `faults` are `--fault` rules (`KIND[:RATE][@PATTERN]`, see `faults.py`); `extra_args`
        go to the command line as they are (e.g. `["--slow-seconds", "2"]`); `layout` is a
        `--layout` name (`tests/replica/layouts/`), None for the default.
        """
        self.layout = layout
        self.faults = list(faults or [])
        self.edition = edition
        self.extra_args = list(extra_args or [])
        self.seed = seed
        self.articles = articles
        self.port = port
        self.host = host
        self.origin: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> ReplicaProcess:
        """Start the server and return self."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    def start(self) -> str:
        """Spawn the server and wait until it accepts connections; return its origin."""
        if self._process is not None:
            raise RuntimeError("replica already started; call stop() first")
        self._workdir = tempfile.TemporaryDirectory(prefix="replica-")
        workdir = Path(self._workdir.name)
        port_file = workdir / "port"
        # Output goes to files, not pipes: nobody reads a pipe while the server runs, and a full
        # pipe would block it.
        command = [sys.executable, "-m", "tests.replica", "--port", str(self.port)]
        command += ["--host", self.host, "--seed", str(self.seed)]
        command += ["--articles", str(self.articles), "--port-file", str(port_file)]
        command += ["--edition", str(self.edition), *self.extra_args]
        if self.layout:
            command += ["--layout", self.layout]
        for fault in self.faults:
            command += ["--fault", fault]
        with (workdir / "stdout").open("wb") as stdout, (workdir / "stderr").open("wb") as stderr:
            self._process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )
        try:
            port = self._wait_for_port(port_file)
        except BaseException:
            self.stop()
            raise
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.origin = f"http://{host}:{port}"
        return self.origin

    def stop(self) -> None:
        """Terminate the server (kill it if it does not exit in time) and clean up."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None
        self.origin = None

    def url(self, path: str) -> str:
        """Absolute URL of `path` on the running server."""
        if self.origin is None:
            raise RuntimeError("replica is not running; call start() first")
        return self.origin + path

    def stats(self) -> dict[str, object]:
        """Request counts since start or the last reset: `{"requests": {path: n}, "total": n}`."""
        with urllib.request.urlopen(self.url("/__replica__/stats"), timeout=10) as response:
            return json.loads(response.read())

    def reset_stats(self) -> None:
        """Zero the request counts."""
        request = urllib.request.Request(self.url("/__replica__/reset"), method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def fault_status(self) -> dict[str, object]:
        """Switched-on fault rules and, per path a fault hit, `[seconds, fault]` per request."""
        with urllib.request.urlopen(self.url("/__replica__/faults"), timeout=10) as response:
            return json.loads(response.read())

    def set_faults(self, rules: list[str], burst: int = 2) -> None:
        """Replace the switched-on fault rules (`KIND[:RATE][@PATTERN]`) of the running portal.

        `burst`: how many requests of a path a transient fault hits before the page is served.
        """
        request = urllib.request.Request(
            self.url("/__replica__/faults"), method="POST",
            data=json.dumps({"rules": rules, "burst": burst}).encode("utf-8"),
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def set_edition(self, edition: int) -> None:
        """Switch the running portal to another edition (and zero the request counts)."""
        request = urllib.request.Request(
            self.url(f"/__replica__/edition?n={edition}"), method="POST", data=b""
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()

    def _wait_for_port(self, port_file: Path) -> int:
        assert self._process is not None and self._workdir is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                errors = (Path(self._workdir.name) / "stderr").read_text(errors="replace")
                raise RuntimeError(
                    f"replica exited with code {self._process.returncode} before listening:\n"
                    f"{errors}"
                )
            if port_file.exists():
                port = int(port_file.read_text(encoding="ascii"))
                if _accepts_connections(self.host, port):
                    return port
            time.sleep(0.05)
        raise RuntimeError(
            f"replica did not listen within {START_TIMEOUT:.0f} s; "
            f"run `{sys.executable} -m tests.replica --port 0` in {PROJECT_ROOT} to see why"
        )


def _accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False
