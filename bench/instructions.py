"""Count the instructions one page costs each extractor: a ratio the machine's load cannot move.

Run from the project root (needs valgrind, Debian's ``valgrind`` package)::

    .venv/bin/python bench/instructions.py [--pages replica|sites|dev|zyte] [--every N]
        [--only profile,trafilatura]
    .venv/bin/python bench/instructions.py --pages dev --only generic,traf-default

For each contender the script runs itself twice under ``valgrind --tool=callgrind``: once
extracting every page once (imports, first-call setup), once extracting them ``--passes`` more
times. The difference, divided by the pages extracted, is the instructions per page; the
ratio of two contenders is what `eval_extraction.py --profile-speed` measures in seconds,
without its noise (instructions are not seconds: cache misses and the CPU's own speed-ups
do not show).

``--pages dev`` is the generic path's dev set (``tests/data/generic-dev``, 322 pages) and
``--pages zyte`` the Zyte benchmark (181 pages); ``--every N`` keeps every N-th page of a set
(callgrind runs ~50 times slower than the CPU: ``--every 8`` gives 41 dev pages). The
contenders: ``profile`` (each page's site profile), ``generic`` (no profile), ``trafilatura``
(``extract`` without comments, as the Zyte benchmark runs it) and ``traf-default`` (``extract``
as a new user calls it, what `eval_generic.py` compares with).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE_SETS = ("replica", "sites", "dev", "zyte")
CONTENDERS = ("profile", "generic", "trafilatura", "traf-default")


def load(page_set: str, every: int = 1) -> list[tuple[bytes, str, object, str | None]]:
    """Every ``every``-th page with its profile and Content-Type, as the evals time them."""
    return _load(page_set)[::every]


def _load(page_set: str) -> list[tuple[bytes, str, object, str | None]]:
    from crawler.sites import load_profile

    if page_set == "dev":
        from bench.eval_generic import load_dev_pages

        return [(page.html, page.url, None, page.content_type) for page in load_dev_pages()]
    if page_set == "zyte":
        from bench.eval_extraction import default_data_dir, load_pages

        return [(page.html, page.url, None, None) for page in load_pages(default_data_dir())]
    if page_set == "replica":
        from tests.replica.content import build_site
        from tests.replica.pages import render_article

        origin, site, profile = "https://baonamdinh.vn", build_site(), load_profile("baonamdinh")
        return [(render_article(site, article, origin).encode("utf-8"), origin + article.path,
                 profile, None) for article in site.articles]
    from crawler.sitefixtures import load_page, page_names

    pages = []
    for folder in sorted(path for path in (ROOT / "tests" / "sites").iterdir() if path.is_dir()):
        for name in page_names(folder, "article"):
            saved = load_page(folder, name)
            pages.append((saved.body, saved.url, load_profile(folder.name), saved.content_type))
    return pages


def extractor(contender: str) -> Callable[[bytes, str, object, str | None], object]:
    """The call `eval_extraction` times for ``contender``."""
    from crawler.parsing.article import extract_with_profile

    if contender == "trafilatura":
        import trafilatura

        return lambda html, url, profile, content_type: trafilatura.extract(
            html, url=url, include_comments=False)
    if contender == "traf-default":
        import trafilatura

        return lambda html, url, profile, content_type: trafilatura.extract(html, url=url)
    if contender == "generic":
        return lambda html, url, profile, content_type: extract_with_profile(
            html, url, None, content_type)
    return extract_with_profile


def run_passes(page_set: str, contender: str, passes: int, every: int = 1) -> None:
    """Extract every page ``1 + passes`` times (what valgrind counts)."""
    pages, extract = load(page_set, every), extractor(contender)
    for _ in range(1 + passes):
        for page in pages:
            extract(*page)


def counted(page_set: str, contender: str, passes: int, every: int = 1) -> int:
    """Instructions valgrind counts for `run_passes`."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               __file__, "--run", contender, "--pages", page_set, "--passes", str(passes),
               "--every", str(every)]
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stderr
    match = re.search(r"Collected : (\d+)", output)
    if match is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{output[-2000:]}")
    return int(match.group(1))


def main(argv: Sequence[str] | None = None) -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--pages", choices=PAGE_SETS, default="replica")
    arguments.add_argument("--only", default="profile,trafilatura", help="comma-separated")
    arguments.add_argument("--passes", type=int, default=1, help="counted passes over the pages")
    arguments.add_argument("--every", type=int, default=1, help="keep every N-th page")
    arguments.add_argument("--run", choices=CONTENDERS, help=argparse.SUPPRESS)
    options = arguments.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if options.run:
        run_passes(options.pages, options.run, options.passes, options.every)
        return
    count = len(load(options.pages, options.every))
    per_page = {}
    for contender in options.only.split(","):
        extra = counted(options.pages, contender, options.passes, options.every)
        base = counted(options.pages, contender, 0, options.every)
        per_page[contender] = (extra - base) / (options.passes * count)
        print(f"{contender:<12} {per_page[contender] / 1e6:8.2f} M instructions per page "
              f"({count} {options.pages} pages)")
    if "profile" in per_page and "trafilatura" in per_page:
        print(f"trafilatura / profile: {per_page['trafilatura'] / per_page['profile']:.1f}x")
    for reference in ("trafilatura", "traf-default"):
        if "generic" in per_page and reference in per_page:
            print(f"generic / {reference}: {per_page['generic'] / per_page[reference]:.2f}x")


if __name__ == "__main__":
    main()
