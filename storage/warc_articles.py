"""Article responses read back from WARC files, offline: what ``sitecheck`` and ``reparse`` parse.

`latest_captures` scans every file under a WARC directory and keeps, for each URL a caller
wants, its latest ``200`` response record: its ``Content-Type`` and a pointer to the record in
the same shape as the one a crawl stores on the article (`storage.warc.WarcPointer`); payloads
are not kept (an archive can be far larger than memory) but read one at a time with
`read_payload`, decoded as the crawl decoded them and no larger than its ``DOWNLOAD_MAXSIZE``
(`storage.payload`). Revisit records hold no payload and are skipped: the original response
stands for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from storage.payload import record_payload
from storage.warc import WarcPointer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Capture:
    """One archived response: when, what came back, and where the record is."""

    url: str
    date: str  # WARC-Date, ISO 8601 UTC
    content_type: str | None
    pointer: dict


def latest_captures(warc_dir: Path, wanted: Callable[[str], bool]) -> dict[str, Capture]:
    """URL -> its latest 200 `Capture`, for every URL ``wanted`` accepts.

    A file that cannot be read to its end (one still being written ends mid-record) counts
    for what was read, and is logged with the reason.
    """
    latest: dict[str, Capture] = {}
    for path in sorted(warc_dir.glob("*.warc.gz*")):
        try:
            with open(path, "rb") as stream:
                records = ArchiveIterator(stream)
                for record in records:
                    if record.rec_type != "response" or record.http_headers is None:
                        continue
                    url = record.rec_headers.get_header("WARC-Target-URI") or ""
                    if record.http_headers.get_statuscode() != "200" or not wanted(url):
                        continue
                    date = record.rec_headers.get_header("WARC-Date") or ""
                    if url in latest and latest[url].date > date:
                        continue
                    records.read_to_end(record)
                    pointer = WarcPointer(
                        filename=path.name.removesuffix(".open"),
                        record_id=record.rec_headers.get_header("WARC-Record-ID") or "",
                        offset=records.get_record_offset(),
                        length=records.get_record_length(),
                        payload_digest=record.rec_headers.get_header("WARC-Payload-Digest") or "",
                        target_uri=url,
                    )
                    content_type = record.http_headers.get_header("Content-Type") or None
                    latest[url] = Capture(url, date, content_type, pointer.as_dict())
        except (OSError, EOFError, ArchiveLoadFailed) as error:
            logger.warning("Stopped reading %s: %s", path, error)
    return latest


def read_payload(warc_dir: Path, capture: Capture, max_size: int) -> bytes:
    """The payload of the record a capture points to, its Content-Encoding undone.

    ``max_size`` is the crawl's ``DOWNLOAD_MAXSIZE`` (0: no cap). Raises OSError or
    ``ArchiveLoadFailed`` when the file or the record cannot be read, and
    `storage.payload.PayloadError` when the payload is larger than ``max_size`` (archived or
    decoded) or cannot be decoded; the messages name nothing, the caller names the record.
    """
    path = warc_dir / capture.pointer["filename"]
    if not path.exists():
        path = path.with_name(path.name + ".open")  # the crawl writing it has not closed it yet
    with open(path, "rb") as stream:
        stream.seek(capture.pointer["offset"])
        for record in ArchiveIterator(stream):
            return record_payload(record, max_size)
    raise ArchiveLoadFailed(f"no record at offset {capture.pointer['offset']} of {path}")
