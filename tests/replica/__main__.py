"""Run the replica portal: `python -m tests.replica --port 0 --port-file replica.port`.

Once listening, the bound port is written to `--port-file` (atomically, so a reader never sees
a partial number) and `replica listening on http://HOST:PORT/` is printed to stdout.
SIGINT and SIGTERM stop the server.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from twisted.internet import reactor

from tests.replica.content import build_site, leave_out, parse_gap
from tests.replica.faults import KINDS, FaultPlan
from tests.replica.hostile import HostilePlan
from tests.replica.layouts import DEFAULT_LAYOUT, LAYOUT_NAMES, LAYOUTS
from tests.replica.server import listen


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.replica", description="Serve the Báo Nam Định replica portal."
    )
    parser.add_argument("--port", type=int, required=True, help="TCP port, 0 for any free one")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback)")
    parser.add_argument("--seed", type=int, default=2020, help="content seed (default: 2020)")
    parser.add_argument("--articles", type=int, default=240, help="article count (default: 240)")
    parser.add_argument(
        "--edition", type=int, default=1,
        help="portal edition: each one after 1 edits 5 articles and adds 10 (default: 1)",
    )
    parser.add_argument(
        "--fault", action="append", default=[], metavar="KIND[:RATE][@PATTERN]",
        help="switch a fault on (repeatable); kinds: " + ", ".join(KINDS),
    )
    parser.add_argument(
        "--fault-burst", type=int, default=2,
        help="requests of a path a transient fault hits before the page is served (default: 2)",
    )
    parser.add_argument(
        "--slow-seconds", type=float, default=3.0,
        help="delay of the `slow` fault (default: 3)",
    )
    parser.add_argument(
        "--hostile-port", type=int, metavar="PORT",
        help="hostile mode: pages also lead to other origins, PORT among them (see hostile.py)",
    )
    parser.add_argument(
        "--layout", choices=LAYOUT_NAMES, default=DEFAULT_LAYOUT,
        help="the CMS family whose pages serve the content (default: %(default)s, the Báo Nam "
        "Định layout); " + "; ".join(f"{name}: {cls.summary}" for name, cls in LAYOUTS.items()),
    )
    parser.add_argument(
        "--gap", action="append", default=[], metavar="SECTION:YYYY-MM",
        help="leave out the articles of one section (id or slug) in one month (repeatable)",
    )
    parser.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    args = parser.parse_args(argv)
    try:
        args.gap = [parse_gap(value) for value in args.gap]
    except ValueError as error:
        parser.error(str(error))
    return args


def write_port_file(path: Path, port: int) -> None:
    """Write `port` to `path` via a rename, so the file appears complete or not at all."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(f"{port}\n", encoding="ascii")
    os.replace(partial, path)


def main(argv: list[str] | None = None) -> int:
    """Build the site, listen, announce the port, and serve until stopped."""
    args = parse_args(argv)
    def edition(number: int):
        site = build_site(seed=args.seed, articles=args.articles, edition=number)
        return leave_out(site, args.gap) if args.gap else site

    site = edition(args.edition)
    faults = FaultPlan.parse(args.fault, args.fault_burst, args.slow_seconds)

    hostile = HostilePlan(args.hostile_port) if args.hostile_port is not None else None
    port = listen(site, args.port, args.host, faults, edition, hostile, args.layout).getHost().port
    host = f"[{args.host}]" if ":" in args.host else args.host

    def announce() -> None:
        if args.port_file is not None:
            write_port_file(args.port_file, port)
        print(f"replica listening on http://{host}:{port}/", flush=True)

    # Announce only once the reactor runs, so a client that sees the port is served at once.
    reactor.callWhenRunning(announce)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
