"""Which images of a site's stored articles are archived, which failed, and which are still owed.

Completeness is per page and its assets. The portal spider records an article's images as owed
(``pending`` in the article store's ``assets`` table) *before* the article is stored, and an image
as ``archived`` (with its WARC pointer) once its response is archived; so a crash at any moment
leaves each image of a stored article either archived or owed. A crash between archiving an image
and recording it costs a refetch, never an image: that is what lets the ledger write archived
images ``ARCHIVED_BATCH`` at a time (and before it reads or writes anything else).

At crawl start the spider asks the ledger for what is owed and requests it, whether or not the
article itself is fetched again (incremental crawls skip stored articles, and so does a full
recrawl resumed after a crash).

Failures: every failed attempt is listed in that crawl's ``failures.jsonl`` and counted here. The
first failure is retried by the next crawl (it may have been a crash or a passing fault); after
that the delay doubles: attempt ``n`` + 1 not before 1, 2, 4, 8 … days after attempt ``n``
failed (``n`` ≥ 2; an hour less, so that a nightly crawl starting a little early still retries),
and after ``ARCHIVE_IMAGES_MAX_ATTEMPTS`` failed attempts the image is given up (``given_up``:
never requested again; the crawl that gives up says so in its failure report). A portal that
cannot be reached at all (connection refused, no such host: a night it was down) counts no attempt.

An archive made before images were tracked gets the images of its stored articles as
``unverified`` (``storage/articles.py``). The first crawl of a site then marks as archived those
whose URL the WARC payload-digest index (``WARC_DIGEST_DB``) names as an original capture, and
owes the rest; an image archived only as a ``revisit`` is so fetched once more, which is harmless.

Reads no settings: the portal spider resolves them when it is built (``PortalSpider.from_crawler``)
and opens the ledger when the crawl starts. They are ``ARTICLES_STORE_ENABLED`` and
``WARC_ENABLED`` (without either, nothing is tracked and images are fetched with each parsed
article, as before); ``ARTICLES_DB`` / ``ARCHIVE_DIR``; ``WARC_DIGEST_DB``;
``ARCHIVE_IMAGES_MAX_ATTEMPTS`` (default 6).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import islice
from pathlib import Path

from storage.articles import ArticleStore
from storage.warc_digests import DigestIndex

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 6
# Images recorded as archived in one transaction: a commit per image was half of the ledger's
# cost (~1% of a crawl's CPU, docs/scale.md); a crash loses at most this many records, i.e.
# refetches those images, never loses one.
ARCHIVED_BATCH = 50
# A retry "1 day later" must not miss a nightly crawl that starts a few minutes earlier than the
# last one did.
SCHEDULE_SLACK = timedelta(hours=1)


# Failure reasons (crawler/extensions/failures.py) that mean the portal was not there at all.
PORTAL_UNREACHABLE = frozenset({"connection_refused", "dns_error"})


def utc_now() -> datetime:
    """The current time, UTC."""
    return datetime.now(timezone.utc)


def retry_delay(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failed attempt an asset waits for the next one.

    Nothing after the first (the next crawl retries it), then 1, 2, 4 … days, less
    ``SCHEDULE_SLACK``.
    """
    if attempts <= 1:
        return timedelta(0)
    return timedelta(days=2 ** (attempts - 2)) - SCHEDULE_SLACK


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class LedgerSource:
    """Where the ledger is kept and how often an image is tried, fixed when the crawl is built."""

    # The article store; None: nothing is tracked (the store or WARC capture is switched off).
    store: Path | None
    # The WARC payload-digest index, which settles the assets an upgrade left unverified.
    digest_db: Path
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


class AssetLedger:
    """The ``assets`` records of one site, as the portal spider reads and writes them."""

    def __init__(
        self,
        store: ArticleStore | None = None,
        site: str = "",
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """Track assets in ``store``; without one, nothing is tracked and everything fetched."""
        if max_attempts < 1:
            raise ValueError(f"ARCHIVE_IMAGES_MAX_ATTEMPTS must be at least 1, got {max_attempts}")
        self.store = store
        self.site = site
        self.max_attempts = max_attempts
        self.clock = clock
        # (url, fetched, pointer) of archived images not yet written (`ARCHIVED_BATCH`).
        self._archived: list[tuple[str, str, dict]] = []

    @classmethod
    def open(cls, source: LedgerSource, site: str) -> AssetLedger:
        """Open the ledger ``source`` names; settle assets an upgrade left ``unverified``."""
        if source.store is None:
            return cls(max_attempts=source.max_attempts)
        ledger = cls(ArticleStore(source.store), site, source.max_attempts)
        if ledger.store.has_unverified_assets(site):
            ledger.verify(source.digest_db)
        return ledger

    @property
    def active(self) -> bool:
        """Whether assets are tracked (a store is open)."""
        return self.store is not None

    def close(self) -> None:
        """Close the store (a second call does nothing)."""
        if self.store is not None:
            self._write_archived()
            self.store.close()
            self.store = None

    def _write_archived(self) -> None:
        """Write the archived images held back (before any read or other write of the ledger,
        so that it always answers as if each had been written at once)."""
        if self._archived:
            self.store.record_assets_archived(self.site, self._archived)
            self._archived = []

    def verify(self, digest_db: Path) -> None:
        """Settle ``unverified`` assets: archived if the digest index knows them, else owed."""
        assert self.store is not None
        confirmed = 0
        if digest_db.exists():
            index = DigestIndex(digest_db)
            try:
                uris = index.target_uris()
                while batch := list(islice(uris, 1000)):
                    confirmed += self.store.confirm_assets(batch)
            finally:
                index.close()
        owed = self.store.release_unverified_assets(self.site)
        logger.info(
            "%s: images of articles stored before images were tracked: %s found archived in %s, "
            "%s to fetch", self.site, confirmed, digest_db, owed,
        )

    def expect(self, article: str, urls: Iterable[str]) -> list[str]:
        """Record an article's asset URLs as owed; return those to request now.

        Call it before the article is stored. Archived, given-up and not-yet-due failed assets are
        not requested.
        """
        urls = list(urls)
        if self.store is None:
            return urls
        self._write_archived()
        now = _iso(self.clock())
        return [
            state.url for state in self.store.expect_assets(self.site, article, urls)
            if state.status == "pending"
            or (state.status == "failed" and (state.retry_after or "") <= now)
        ]

    def owed(self) -> Iterator[str]:
        """URLs of the site's assets owed now (pending, or failed and due), in pages."""
        if self.store is None:
            return iter(())
        self._write_archived()
        return (state.url for state in self.store.owed_assets(self.site, _iso(self.clock())))

    def archived(self, url: str, pointer: dict) -> None:
        """Record that a response for ``url`` is archived at ``pointer``."""
        if self.store is not None:
            self._archived.append((url, _iso(self.clock()), pointer))
            if len(self._archived) >= ARCHIVED_BATCH:
                self._write_archived()

    def failed(self, url: str, reason: str) -> str:
        """Record a failed attempt; return what happens next, for the failure report.

        A portal that could not be reached at all (nothing listening, no such host) says
        nothing about the image: it stays owed as it was, no attempt is counted, so a few
        nights of a portal being down never make an image wait days or be given up.
        """
        if self.store is None:
            return ""
        if reason in PORTAL_UNREACHABLE:
            return "portal unreachable: still owed, no attempt counted"
        self._write_archived()
        known = self.store.asset(url)
        attempts = (known.attempts if known else 0) + 1
        now = self.clock()
        if attempts >= self.max_attempts:
            self.store.record_asset_failure(url, self.site, reason, _iso(now), None)
            return f"attempt {attempts} of {self.max_attempts}: given up"
        retry = _iso(now + retry_delay(attempts))
        self.store.record_asset_failure(url, self.site, reason, _iso(now), retry)
        return f"attempt {attempts} of {self.max_attempts}: retried from {retry}"
