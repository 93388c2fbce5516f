"""A private redis-server on a free loopback port, for the tests and benches of many workers.

    with RedisProcess() as redis_server:
        redis_server.url  # redis://127.0.0.1:PORT/0

No persistence (no RDB snapshot, no AOF): the server lives in memory and dies with the test.
`make install` installs Debian's ``redis-server`` (as root); without it the tests that need one
are skipped with a line saying how to install it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from types import TracebackType

import redis

START_TIMEOUT = 10.0
MISSING = "redis-server not installed: sudo apt-get install redis-server (or make install as root)"


def available() -> bool:
    """Whether a ``redis-server`` binary is on the PATH."""
    return shutil.which("redis-server") is not None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisProcess:
    """``redis-server`` as a subprocess on 127.0.0.1; `url` is set once it answers."""

    def __init__(self) -> None:
        self.url: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> RedisProcess:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> str:
        """Start the server and wait until it answers PING; return its URL."""
        self._workdir = tempfile.TemporaryDirectory(prefix="redis-")
        for _ in range(5):  # another process may take the probed port first
            port = _free_port()
            self._process = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", self._workdir.name, "--loglevel", "warning"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            url = f"redis://127.0.0.1:{port}/0"
            client = redis.Redis.from_url(url)
            deadline = time.monotonic() + START_TIMEOUT
            while self._process.poll() is None and time.monotonic() < deadline:
                try:
                    client.ping()
                except redis.ConnectionError:
                    time.sleep(0.05)
                    continue
                client.close()
                self.url = url
                return url
            client.close()
            self.stop()
        raise RuntimeError("redis-server did not start on a free loopback port")

    def client(self) -> redis.Redis:
        """A client of the server (close it when done)."""
        assert self.url is not None, "not started"
        return redis.Redis.from_url(self.url)

    def flush(self) -> None:
        """Forget every key: the next crawl starts on an empty frontier."""
        with self.client() as client:
            client.flushall()

    def stop(self) -> None:
        """Stop the server (its data is gone with it)."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None
