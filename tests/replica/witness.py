"""Witnesses of requests that must never happen: a counting server and a loopback-only resolver.

`Witness` listens on one port of several loopback addresses (``127.0.0.1`` and ``127.0.0.2`` by
default) and counts every connection it accepts, whatever arrives on it: an HTTP request, a TLS
handshake, nothing at all. It answers plain HTTP with a small page and closes. It runs in
threads of the test process, apart from both the crawler and the replica, so its count is an
independent witness of where a crawl went::

    with Witness() as witness:
        ...  # point pages at witness.port
        assert witness.connections() == []

`LoopbackOnlyResolver` is a Scrapy DNS resolver (``-s TWISTED_DNS_RESOLVER=tests.replica.witness
.LoopbackOnlyResolver``) that resolves loopback names and addresses only: a lookup of any other
name fails at once and is logged ("refused to resolve NAME"), so a test can show that a crawl
never tried to reach a real domain, without ever asking a DNS server about it.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import socketserver
import threading
from types import TracebackType

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

logger = logging.getLogger(__name__)

ADDRESSES = ("127.0.0.1", "127.0.0.2")
_PAGE = b"<html><body><a href='/channel/5085/'>elsewhere</a></body></html>"


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], witness: Witness) -> None:
        self.witness = witness
        super().__init__(address, _Handler)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        witness = self.server.witness  # type: ignore[attr-defined]
        host, port = self.request.getsockname()[:2]
        self.request.settimeout(2)
        try:
            first = self.request.recv(4096)
        except OSError:
            first = b""
        line = first.split(b"\r\n", 1)[0]
        what = line.decode("latin-1") if line[:1].isalpha() else f"{len(first)} bytes, not HTTP"
        witness.record(f"{host}:{port}", what)
        if line[:1].isalpha():
            try:
                self.request.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                    b"Content-Length: " + str(len(_PAGE)).encode() + b"\r\n\r\n" + _PAGE
                )
            except OSError:
                pass


class Witness:
    """A server on one port of several loopback addresses that counts every connection."""

    def __init__(self, addresses: tuple[str, ...] = ADDRESSES) -> None:
        """Describe the listeners; nothing listens until `start()` or `with`."""
        for address in addresses:
            if not ipaddress.ip_address(address).is_loopback:
                raise ValueError(f"the witness listens on loopback only, not {address}")
        self.addresses = addresses
        self.port = 0
        self._servers: list[_Server] = []
        self._lock = threading.Lock()
        self._connections: list[tuple[str, str]] = []

    def __enter__(self) -> Witness:
        """Start listening and return self."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop listening."""
        self.stop()

    def start(self) -> int:
        """Listen on a port free on every address; return it."""
        for _ in range(20):
            first = _Server((self.addresses[0], 0), self)
            port = first.server_address[1]
            servers = [first]
            try:
                servers += [_Server((address, port), self) for address in self.addresses[1:]]
            except OSError:
                for server in servers:
                    server.server_close()
                continue
            self._servers, self.port = servers, port
            for server in servers:
                threading.Thread(target=server.serve_forever, daemon=True).start()
            return port
        raise RuntimeError(f"no port free on all of {', '.join(self.addresses)}")

    def stop(self) -> None:
        """Stop every listener."""
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []

    def record(self, address: str, what: str) -> None:
        """Count one connection to `address` (``host:port``) and what it sent first."""
        with self._lock:
            self._connections.append((address, what))

    def connections(self) -> list[tuple[str, str]]:
        """Every connection so far: (``host:port`` it reached, its first line or byte count)."""
        with self._lock:
            return list(self._connections)


class LoopbackOnlyResolver(CachingThreadedResolver):
    """Scrapy's resolver, for loopback names and addresses only; any other lookup fails."""

    def getHostByName(self, name: str, timeout=()):  # noqa: N802 - Twisted's interface
        """Resolve `name` when it is loopback; log and fail for anything else."""
        if _is_loopback(name):
            return super().getHostByName(name, timeout)
        logger.warning("LoopbackOnlyResolver refused to resolve %s", name)
        return defer.fail(DNSLookupError(f"{name}: not a loopback name (test resolver)"))


def _is_loopback(name: str) -> bool:
    if name.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def loopback_reachable(address: str) -> bool:
    """Whether this machine routes `address` to itself (Linux does for all of 127.0.0.0/8)."""
    try:
        with socket.socket() as probe:
            probe.bind((address, 0))
        return True
    except OSError:
        return False
