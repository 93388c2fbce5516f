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
    """Crawl; kill twice while images are still queued behind the articles; finish.

    The second run is a full recrawl (``INCREMENTAL=False``) resumed after the first kill: it
    skips the articles the first run stored, as the incremental runs do.
    """
    archive = tmp_path_factory.mktemp("assets-resume") / "archive"
    db = archive / "articles.sqlite3"
    with ReplicaProcess(articles=ARTICLES) as portal:
        command = crawl_command(portal.origin, archive)
        full = [*command, "-s", "INCREMENTAL=False"]
        counts = [
            kill_when(command, archive, lambda: stored_count(db) >= ARTICLES * 0.3),
            kill_when(full, archive, lambda: stored_count(db) >= ARTICLES * 0.7),
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


SMALL = 30
# Some images answer with a redirect off the site: a permanent failure (reason "offsite_redirect").
BROKEN_IMAGES = r"offsite:0.25@^/uploads/"


def upload_requests(portal: ReplicaProcess) -> dict[str, int]:
    return {p: n for p, n in portal.stats()["requests"].items() if p.startswith("/uploads/")}


def failures(archive: Path) -> dict[str, dict]:
    lines = (archive / "failures.jsonl").read_text(encoding="utf-8").splitlines()
    return {urlsplit(line["url"]).path: line for line in map(json.loads, lines)}


@pytest.fixture(scope="module")
def portal():
    with ReplicaProcess(articles=SMALL) as process:
        yield process


def test_a_failed_image_is_reported_retried_once_then_left_to_its_backoff(portal, tmp_path):
    portal.set_faults([BROKEN_IMAGES])
    try:
        portal.reset_stats()
        first = run_crawl(portal.origin, tmp_path)
        assert first.returncode == 0, first.log[-3000:]
        broken = set(failures(tmp_path))
        assert broken and all(path.startswith("/uploads/") for path in broken)
        assert {f["reason"] for f in failures(tmp_path).values()} == {"offsite_redirect"}
        assert all("attempt 1 of 6" in f["detail"] for f in failures(tmp_path).values())
        assert {image for images in missing_images(tmp_path).values() for image in images} == (
            broken)

        # The next crawl retries them at once (the first failure may have been a passing one)…
        portal.reset_stats()
        second = run_crawl(portal.origin, tmp_path)
        assert second.returncode == 0, second.log[-3000:]
        assert set(upload_requests(portal)) == broken
        assert all("attempt 2 of 6: retried from" in f["detail"]
                   for f in failures(tmp_path).values())
        assert set(failures(tmp_path)) == broken

        # …then waits a day; a full recrawl refetches every article but no image at all.
        portal.reset_stats()
        full = run_crawl(portal.origin, tmp_path, INCREMENTAL="False")
        assert full.returncode == 0, full.log[-3000:]
        assert upload_requests(portal) == {}
        assert full.summary["articles_unchanged"] == SMALL
    finally:
        portal.set_faults([])
    # The portal repaired its images, and the day has passed (pretend so in the store).
    with sqlite3.connect(tmp_path / "articles.sqlite3") as db:
        db.execute("UPDATE assets SET retry_after = '2001-01-01T00:00:00+00:00' "
                   "WHERE status = 'failed'")
    portal.reset_stats()
    repaired = run_crawl(portal.origin, tmp_path)
    assert repaired.returncode == 0, repaired.log[-3000:]
    assert set(upload_requests(portal)) == broken
    assert missing_images(tmp_path) == {}


def test_an_archive_from_before_images_were_tracked_is_repaired_by_its_next_crawl(
    portal, tmp_path
):
    # Images never fetched (as after the crashes of issue 11), in a store without the table.
    run = run_crawl(portal.origin, tmp_path, ARCHIVE_IMAGES="False")
    assert run.returncode == 0, run.log[-3000:]
    with sqlite3.connect(tmp_path / "articles.sqlite3") as db:
        db.execute("DROP TABLE assets")
    images = {image for paths in stored_images(tmp_path / "articles.sqlite3").values()
              for image in paths}
    assert len(missing_images(tmp_path)) == SMALL - sum(
        1 for paths in stored_images(tmp_path / "articles.sqlite3").values() if not paths)

    portal.reset_stats()
    run = run_crawl(portal.origin, tmp_path)
    assert run.returncode == 0, run.log[-3000:]
    assert set(upload_requests(portal)) == images
    assert missing_images(tmp_path) == {}

    # Once more without the table: the digest index shows every image archived, none refetched.
    with sqlite3.connect(tmp_path / "articles.sqlite3") as db:
        db.execute("DROP TABLE assets")
    portal.reset_stats()
    run = run_crawl(portal.origin, tmp_path)
    assert run.returncode == 0, run.log[-3000:]
    assert upload_requests(portal) == {}
    with sqlite3.connect(tmp_path / "articles.sqlite3") as db:
        assert db.execute("SELECT status, COUNT(*) FROM assets GROUP BY status").fetchall() == [
            ("archived", len(images))]
