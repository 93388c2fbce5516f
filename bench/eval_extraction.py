"""Score article-body extraction on the Zyte article-extraction benchmark, against trafilatura.

Run from the project root::

    .venv/bin/python bench/eval_extraction.py [--data DIR] [--only ours,traf-nocomm] [--rounds 3]
        [--profile-speed] [--per-page FILE.json]

``DIR`` holds ``ground-truth.json`` and ``html/<id>.html.gz`` (181 real pages with hand-labelled
bodies), or the same packed as ``article-extraction-benchmark.tar.xz``; it defaults to
``../shared/benchmarks/article-extraction`` and falls back to the project's copy in
``tests/data/article-extraction``. For every contender the harness prints precision, recall and
F1 with two measures, both per page averaged:

- **shingle**: 4-token shingles of ``\\w+`` tokens, precision and recall averaged over pages,
  F1 the harmonic mean of those averages (how the benchmark's own table is computed);
- **bow**: bag of whitespace tokens, F1 computed per page and then averaged (the simpler check);

and pages per second (CPU time of the process, decoding included, the fastest of ``--rounds``
samples, samples taking turns between contenders; a sample repeats the set until it has
lasted a second, so a fast contender is timed over as long a stretch as a slow one). The
contenders: our extractor (``extract_article`` with no site profile, i.e. the generic path),
trafilatura's ``extract`` with its defaults (``trafilatura``) and as the benchmark calls it,
without comments (``traf-nocomm``), and readability-lxml (``Document.summary`` text).
Comparison-only packages come from the ``bench`` extra (``pip install -e '.[bench]'``); a
missing one is skipped.

``--profile-speed`` adds the profile path's speed next to the generic path and trafilatura on
the same pages, twice: on the replica portal's 240 small baonamdinh pages, and on the real
outlets' saved articles in ``tests/sites/<site_id>/`` (each with its site's profile).

Not a test: only the ratios within one run mean something. The suite's gate
(``tests/test_crawler_parsing_benchmark.py``) reuses `score_pages` with a pinned floor.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import tarfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_CANDIDATES = (
    ROOT.parent / "shared" / "benchmarks" / "article-extraction",
    ROOT / "tests" / "data" / "article-extraction",
)
ARCHIVE_NAME = "article-extraction-benchmark.tar.xz"
SHINGLE_SIZE = 4
_WORD_RE = re.compile(r"\w+")

Extractor = Callable[[bytes, str], str]
VISIBLE_LEAD_SOURCES = frozenset({"selector", "generic", "body"})


@dataclass(frozen=True)
class Page:
    """One benchmark page: its id, URL, raw bytes and labelled body."""

    page_id: str
    url: str
    html: bytes
    expected: str


@dataclass(frozen=True)
class Scores:
    """Averaged scores of one contender over a page set."""

    shingle_precision: float
    shingle_recall: float
    shingle_f1: float
    bow_precision: float
    bow_recall: float
    bow_f1: float
    pages: int


def default_data_dir() -> Path:
    """The shared benchmark folder if present, else the project's copy."""
    for candidate in DATA_CANDIDATES:
        if (candidate / "ground-truth.json").exists() or (candidate / ARCHIVE_NAME).exists():
            return candidate
    raise FileNotFoundError(
        "benchmark data not found in " + " or ".join(map(str, DATA_CANDIDATES))
    )


def load_pages(data_dir: Path) -> list[Page]:
    """Read every page of the set, sorted by id, from the folder or from its archive."""
    if (data_dir / "ground-truth.json").exists():
        truth = json.loads((data_dir / "ground-truth.json").read_text(encoding="utf-8"))
        html = {
            page_id: gzip.decompress((data_dir / "html" / f"{page_id}.html.gz").read_bytes())
            for page_id in truth
        }
    else:
        with tarfile.open(data_dir / ARCHIVE_NAME) as archive:
            files = {
                member.name: archive.extractfile(member).read()
                for member in archive.getmembers() if member.isfile()
            }
        truth = json.loads(files.pop("ground-truth.json"))
        html = {name.removesuffix(".html"): data for name, data in files.items()}
    return [
        Page(page_id, entry["url"], html[page_id], entry["articleBody"])
        for page_id, entry in sorted(truth.items())
    ]


def shingles(text: str, size: int = SHINGLE_SIZE) -> Counter[tuple[str, ...]]:
    """Count the ``size``-token shingles of ``text`` (a shorter text is one shingle)."""
    tokens = _WORD_RE.findall(text or "")
    if not tokens:
        return Counter()
    return Counter(
        tuple(tokens[start:start + size]) for start in range(max(1, len(tokens) - size + 1))
    )


def overlap(expected: Counter, got: Counter) -> tuple[float, float]:
    """Precision and recall of ``got`` against ``expected`` (multiset overlap).

    An empty result has precision 0 unless nothing was expected either: a page where the
    extractor returns nothing must cost it, not vanish from the average.
    """
    common = sum((expected & got).values())
    found, wanted = sum(got.values()), sum(expected.values())
    if not found and not wanted:
        return 1.0, 1.0
    precision = common / found if found else 0.0
    recall = common / wanted if wanted else 0.0
    return precision, recall


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def page_scores(expected: str, got: str) -> tuple[float, float, float, float]:
    """(shingle precision, shingle recall, bow precision, bow recall) of one page."""
    shingle_p, shingle_r = overlap(shingles(expected), shingles(got))
    bow_p, bow_r = overlap(Counter(expected.split()), Counter((got or "").split()))
    return shingle_p, shingle_r, bow_p, bow_r


def score_pages(pairs: Iterable[tuple[str, str]]) -> Scores:
    """Average the scores of (expected, got) pairs as the benchmark does."""
    rows = [page_scores(expected, got) for expected, got in pairs]
    if not rows:
        raise ValueError("no pages to score")
    count = len(rows)
    shingle_p = sum(row[0] for row in rows) / count
    shingle_r = sum(row[1] for row in rows) / count
    bow_p = sum(row[2] for row in rows) / count
    bow_r = sum(row[3] for row in rows) / count
    bow_f1 = sum(_f1(row[2], row[3]) for row in rows) / count
    return Scores(shingle_p, shingle_r, _f1(shingle_p, shingle_r), bow_p, bow_r, bow_f1, count)


def ours(html: bytes, url: str) -> str:
    """Our generic path: the text a researcher reads (lead when visible on the page, body)."""
    from crawler.parsing import extract_article

    return article_text(extract_article(html, url))


def article_text(record: dict) -> str:
    """The article text of a record: the lead when it came from the page's text, then the body.

    A lead read from ``<meta name=description>`` alone is left out: the page may never show it.
    """
    visible = record.get("lead_source") in VISIBLE_LEAD_SOURCES
    parts = [record.get("lead")] if visible else []
    parts.append(record.get("body"))
    return "\n\n".join(part for part in parts if part)


def trafilatura_default(html: bytes, url: str) -> str:
    """trafilatura's ``extract`` as a new user calls it."""
    import trafilatura

    return trafilatura.extract(html, url=url) or ""


def trafilatura_no_comments(html: bytes, url: str) -> str:
    """trafilatura as the benchmark's own table runs it: comments are not article text."""
    import trafilatura

    return trafilatura.extract(html, url=url, include_comments=False) or ""


def readability(html: bytes, url: str) -> str:
    """readability-lxml's main-content HTML, reduced to its text."""
    import lxml.html
    from readability import Document

    summary = Document(html, url=url).summary(html_partial=True)
    return lxml.html.fromstring(summary).text_content() if summary.strip() else ""


CONTENDERS: dict[str, tuple[str, Extractor]] = {
    "ours": ("crawler.parsing", ours),
    "trafilatura": ("trafilatura", trafilatura_default),
    "traf-nocomm": ("trafilatura", trafilatura_no_comments),
    "readability": ("readability", readability),
}


def one_pass(extract: Extractor, pages: Sequence[Page]) -> tuple[list[str], float]:
    """Extract every page once; return the texts and the CPU seconds it took.

    CPU time of this process, not wall time: other jobs on a shared machine then skew the
    ratio between contenders far less.
    """
    started = time.process_time()
    results = [extract(page.html, page.url) for page in pages]
    return results, time.process_time() - started


# Each timed sample of a contender lasts at least this long (CPU seconds), repeating the pages.
SAMPLE_SECONDS = 1.0


def timed_sample(extract: Extractor, pages: Sequence[Page], min_seconds: float) -> float:
    """CPU seconds per pass over ``pages``, from as many passes as last ``min_seconds``.

    A fast contender then is not timed over a tenth of a second while a slow one is timed over
    whole seconds: on a shared machine, load comes in bursts, and the minimum of short samples
    finds a quiet moment that a long sample averages away.
    """
    passes, elapsed = 0, 0.0
    while passes == 0 or elapsed < min_seconds:
        elapsed += one_pass(extract, pages)[1]
        passes += 1
    return elapsed / passes


def compare(
    extractors: dict[str, Extractor], pages: Sequence[Page], rounds: int = 3,
    min_seconds: float = SAMPLE_SECONDS,
) -> dict[str, tuple[Scores, float]]:
    """Score each extractor and time it; return scores and pages/s by name.

    The first pass is untimed (lazy imports, dateparser's one-time setup). The timed samples
    (`timed_sample`, about as long for every contender) take turns between extractors and
    each keeps its fastest, so a burst of load on the machine does not land on one contender
    only.
    """
    scores = {}
    for name, extract in extractors.items():
        results, _ = one_pass(extract, pages)
        scores[name] = score_pages(
            (page.expected, got) for page, got in zip(pages, results, strict=True)
        )
    fastest = dict.fromkeys(extractors, float("inf"))
    for _ in range(rounds):
        for name, extract in extractors.items():
            fastest[name] = min(fastest[name], timed_sample(extract, pages, min_seconds))
    return {name: (scores[name], len(pages) / fastest[name]) for name in extractors}


def profile_path_speed(rounds: int = 3) -> tuple[float, float, float]:
    """Pages/s on the replica's baonamdinh pages: profile path, generic path, trafilatura.

    The replica (``tests/replica``) renders the 240 articles of a simulated baonamdinh.vn with
    every layout quirk it knows; the benchmark's pages have no profile, so the profile path's
    speed is measured here, against trafilatura on the very same pages.
    """
    from crawler.parsing import extract_article
    from tests.replica.content import build_site
    from tests.replica.pages import render_article

    origin = "https://baonamdinh.vn"
    site = build_site()
    pages = [
        Page(str(article.id), origin + article.path,
             render_article(site, article, origin).encode("utf-8"), "")
        for article in site.articles
    ]

    def with_profile(html: bytes, url: str) -> str:
        return extract_article(html, url, site="baonamdinh")["body"] or ""

    def without_profile(html: bytes, url: str) -> str:
        from crawler.parsing.article import extract_with_profile

        return extract_with_profile(html, url, None)["body"] or ""

    measured = compare({"profile": with_profile, "generic": without_profile,
                        "trafilatura": trafilatura_no_comments}, pages, rounds)
    return measured["profile"][1], measured["generic"][1], measured["trafilatura"][1]


def real_pages_speed(rounds: int = 3) -> tuple[float, float, float, int]:
    """Pages/s on the saved real articles of ``tests/sites``: profile path, generic, trafilatura.

    Each page is read with its own site's profile and its saved ``Content-Type``; the fourth
    value is the number of pages.
    """
    from crawler.parsing.article import extract_with_profile
    from crawler.sitefixtures import load_page, page_names
    from crawler.sites import load_profile

    sites = ROOT / "tests" / "sites"
    pages: list[Page] = []
    context = {}
    for folder in sorted(path for path in sites.iterdir() if path.is_dir()):
        for name in page_names(folder, "article"):
            saved = load_page(folder, name)
            pages.append(Page(f"{folder.name}/{name}", saved.url, saved.body, ""))
            context[saved.url] = (load_profile(folder.name), saved.content_type)

    def with_profile(html: bytes, url: str) -> str:
        profile, content_type = context[url]
        return extract_with_profile(html, url, profile, content_type)["body"] or ""

    def without_profile(html: bytes, url: str) -> str:
        return extract_with_profile(html, url, None, context[url][1])["body"] or ""

    measured = compare({"profile": with_profile, "generic": without_profile,
                        "trafilatura": trafilatura_no_comments}, pages, rounds)
    return (measured["profile"][1], measured["generic"][1], measured["trafilatura"][1],
            len(pages))


def main(argv: Sequence[str] | None = None) -> None:
    """Score each available contender and print one row each."""
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--data", type=Path, default=None, help="benchmark folder")
    arguments.add_argument(
        "--only", default=",".join(CONTENDERS), help="contenders, comma-separated"
    )
    arguments.add_argument(
        "--rounds", type=int, default=3, help="timed samples per contender (the fastest counts)"
    )
    arguments.add_argument("--per-page", type=Path, help="write per-page shingle F1 as JSON")
    arguments.add_argument(
        "--profile-speed", action="store_true",
        help="also time the profile path on the replica's pages against trafilatura",
    )
    options = arguments.parse_args(argv)

    sys.path.insert(0, str(ROOT))  # run as a script, the project root is not on sys.path
    data_dir = options.data or default_data_dir()
    pages = load_pages(data_dir)
    print(f"{len(pages)} pages from {data_dir}")
    print(f"{'extractor':<12} {'shingle P':>9} {'R':>6} {'F1':>6}   {'bow P':>6} {'R':>6} "
          f"{'F1':>6}   {'pages/s':>8}")
    extractors: dict[str, Extractor] = {}
    for name in options.only.split(","):
        module, extract = CONTENDERS[name]
        try:
            __import__(module)
        except ImportError:
            print(f"{name:<12} skipped: `{module}` is not installed (pip install -e '.[bench]')")
            continue
        extractors[name] = extract
    for name, (scores, speed) in compare(extractors, pages, options.rounds).items():
        print(f"{name:<12} {scores.shingle_precision:9.3f} {scores.shingle_recall:6.3f} "
              f"{scores.shingle_f1:6.3f}   {scores.bow_precision:6.3f} {scores.bow_recall:6.3f} "
              f"{scores.bow_f1:6.3f}   {speed:8.1f}")
    per_page = {
        name: {page.page_id: _f1(*page_scores(page.expected, extract(page.html, page.url))[:2])
               for page in pages}
        for name, extract in extractors.items()
    } if options.per_page else {}
    if options.per_page:
        options.per_page.write_text(json.dumps(per_page, indent=1))
    if options.profile_speed:
        profile, generic, trafilatura = profile_path_speed(options.rounds)
        print(f"replica pages/s: profile path {profile:.1f}, generic path {generic:.1f}, "
              f"trafilatura {trafilatura:.1f} (profile {profile / trafilatura:.1f}x, "
              f"generic {generic / trafilatura:.2f}x)")
        profile, generic, trafilatura, count = real_pages_speed(options.rounds)
        print(f"tests/sites pages/s ({count} real articles): profile path {profile:.1f}, "
              f"generic path {generic:.1f}, trafilatura {trafilatura:.1f} "
              f"(profile {profile / trafilatura:.1f}x, generic {generic / trafilatura:.2f}x)")


if __name__ == "__main__":
    main()
