"""Completeness is per page and its images: a crash, a failure or an old archive loses none.

A crawl of the replica is killed with SIGKILL once articles are stored but before their images
(requested after every article) are fetched, then resumed; the resumed crawls skip the stored
articles, yet every image of every stored article must end up as a ``response`` (or ``revisit``)
record in the WARC files. An image that fails is listed in ``failures.jsonl`` and retried with a
backoff, not every night forever; archived images are never fetched again, also under
``INCREMENTAL=False``; an archive written before images were tracked is repaired by its next
crawl.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import PROJECT_ROOT, run_crawl
from tests.replica.process import ReplicaProcess
from tests.test_spiders_base_resume import crawl_command, kill_when, stored_count

ARTICLES = 100


def archived_paths(archive: Path) -> set[str]:
    """Paths of every URL with a complete 200 response (or revisit) record in the WARC files."""
    paths = set()
    for path in sorted((archive / "warc").glob("*.warc.gz*")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type not in ("response", "revisit") or not record.http_headers:
                    continue
                if record.http_headers.get_statuscode() == "200":
                    paths.add(urlsplit(record.rec_headers.get_header("WARC-Target-URI")).path)
    return paths


def stored_images(db: Path) -> dict[str, set[str]]:
    """Image paths of every stored article, by article path."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT url, images FROM articles").fetchall()
    return {
        urlsplit(url).path: {urlsplit(image["src"]).path for image in json.loads(images or "[]")}
        for url, images in rows
    }


def missing_images(archive: Path) -> dict[str, set[str]]:
    archived = archived_paths(archive)
    return {
        article: images - archived
        for article, images in stored_images(archive / "articles.sqlite3").items()
        if images - archived
    }


@pytest.fixture(scope="module")
def killed_twice(tmp_path_factory):
    """Crawl; kill twice while images are still queued behind the articles; finish."""
    archive = tmp_path_factory.mktemp("assets-resume") / "archive"
    db = archive / "articles.sqlite3"
    with ReplicaProcess(articles=ARTICLES) as portal:
        command = crawl_command(portal.origin, archive)
        counts = [
            kill_when(command, archive, lambda: stored_count(db) >= ARTICLES * 0.3),
            kill_when(command, archive, lambda: stored_count(db) >= ARTICLES * 0.7),
        ]
        # What the killed runs left: articles stored, many of their images not yet fetched.
        missing_after_kills = sum(len(images) for images in missing_images(archive).values())
        final = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True,
                               timeout=300)
    assert final.returncode == 0, final.stderr[-3000:]
    return archive, counts, missing_after_kills


def test_the_kills_left_stored_articles_without_their_images(killed_twice):
    _, counts, missing_after_kills = killed_twice
    assert counts[0] < counts[1] < ARTICLES, counts
    assert missing_after_kills > 0


def test_every_image_of_every_stored_article_is_archived_after_resume(killed_twice):
    archive, _, _ = killed_twice
    assert len(stored_images(archive / "articles.sqlite3")) == ARTICLES
    assert missing_images(archive) == {}
    assert not list((archive / "warc").glob("*.open"))
