"""WARC files of replica articles archived with every Content-Encoding, and decompression bombs.

The records are written by the crawl's own writer (`storage.warc.WarcWriter`), with the body
encoded as a server sends it and the headers saying so, exactly as a crawl archives them; the
offline commands (``reparse``, ``sitecheck``, ``addsite --from-warc``) read them back.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import brotli

from storage.warc import WarcPointer, WarcWriter
from tests.replica.content import ArticleSpec, build_site
from tests.replica.pages import render_article

try:
    from compression import zstd  # Python 3.14
except ImportError:
    from backports import zstd


def _raw_deflate(data: bytes) -> bytes:
    # Some servers send deflate without the zlib wrapper; Scrapy reads both.
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _brotli(data: bytes) -> bytes:
    # Quality 5, as servers compress pages on the fly (the default, 11, takes seconds on a bomb).
    return brotli.compress(data, quality=5)


# Content-Encoding header -> how a server encodes a body that way.
ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda data: gzip.compress(data, mtime=0),
    "x-gzip": lambda data: gzip.compress(data, mtime=0),
    "deflate": zlib.compress,
    "deflate (raw)": _raw_deflate,
    "br": _brotli,
    "zstd": zstd.compress,
    "gzip, br": lambda data: _brotli(gzip.compress(data, mtime=0)),
    "identity": lambda data: data,
}

BOMB_ENCODINGS = ("gzip", "deflate", "br", "zstd")


@dataclass(frozen=True)
class Archived:
    """One response archived for a test: its URL, what it should read as, and its record."""

    url: str
    encoding: str
    article: ArticleSpec | None
    pointer: WarcPointer


def header_value(encoding: str) -> str | None:
    """The Content-Encoding header sent for an `ENCODERS` key (None: no header)."""
    return {"deflate (raw)": "deflate", "identity": None}.get(encoding, encoding)


def write_response(writer: WarcWriter, url: str, body: bytes, encoding: str | None,
                   content_type: str = "text/html; charset=utf-8") -> WarcPointer:
    """Archive one 200 response as the crawl does: the body as received, with its headers."""
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    return writer.write_exchange(
        url=url, method="GET", request_headers=[("Accept-Encoding", "gzip, deflate, br, zstd")],
        request_body=b"", protocol="HTTP/1.1", status=200, reason="OK",
        response_headers=headers, body=body,
    )


def bomb(encoding: str, inflated: int) -> bytes:
    """An HTML page of ``inflated`` bytes (mostly spaces), compressed with ``encoding``."""
    return ENCODERS[encoding](b"<html><body><p>" + b" " * inflated)


def archive_articles(warc_dir: Path, origin: str, *, bomb_size: int = 0) -> list[Archived]:
    """Archive one replica article per encoding in `ENCODERS`, and (``bomb_size`` > 0) one
    decompression bomb per encoding in `BOMB_ENCODINGS` at the URL of a further article."""
    site = build_site(articles=len(ENCODERS) + len(BOMB_ENCODINGS))
    articles = iter(site.articles)
    archived = []
    with WarcWriter(warc_dir, prefix="baonamdinh") as writer:
        for encoding, encode in ENCODERS.items():
            article = next(articles)
            url = article.url(origin)
            html = render_article(site, article, origin).encode("utf-8")
            pointer = write_response(writer, url, encode(html), header_value(encoding))
            archived.append(Archived(url, encoding, article, pointer))
        if bomb_size:
            for encoding in BOMB_ENCODINGS:
                url = next(articles).url(origin)
                pointer = write_response(writer, url, bomb(encoding, bomb_size), encoding)
                archived.append(Archived(url, encoding, None, pointer))
    return archived
