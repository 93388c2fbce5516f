"""``scrapy index``: write a CDXJ index of the archive's WARC files.

Indexes every closed WARC file in ``WARC_DIR`` (default ``<ARCHIVE_DIR>/warc``) into
``<ARCHIVE_DIR>/index.cdxj`` (``--output`` to change), sorted, with file names
relative to the WARC directory: the index pywb's ``cdx-server``/``wayback`` and other
CDXJ readers use to find a capture by URL and time.  A 304 revalidation is indexed at
its time with the place of the page it confirmed (``storage/index.py``).

No closed WARC file, a file that is not a WARC file, an output that is a directory or cannot be
written: one line naming it, exit code 2, no index written (``crawler/cli.py``).

Settings: ``ARCHIVE_DIR``, ``WARC_DIR``.
"""

from __future__ import annotations

import argparse
import gzip
import zlib
from pathlib import Path

from warcio.exceptions import ArchiveLoadFailed

from crawler.cli import (
    InputError,
    OfflineCommand,
    cannot_read,
    cannot_write,
    one_line_errors,
    output_file,
)
from crawler.paths import ArchivePaths
from storage.index import closed_warc_files, write_cdxj_counted

# What a WARC file begins with (after gzip): the version line of its first record.
WARC_MAGIC = (b"WARC/1.0\r\n", b"WARC/1.1\r\n")


def warc_files_to_read(directory: Path) -> list[Path]:
    """The closed WARC files of ``directory``, each checked to begin as a WARC file does.

    warcio reads almost anything as records (a text file gives "captures"), so a stray or
    broken file is named here instead.
    """
    files = closed_warc_files(directory)
    if not files:
        raise InputError(f"no closed WARC files in {directory}: crawl first (or set ARCHIVE_DIR / "
                         "WARC_DIR)")
    for path in files:
        try:
            with (gzip.open if path.name.endswith(".gz") else open)(path, "rb") as stream:
                head = stream.read(len(WARC_MAGIC[0]))
        except (OSError, EOFError, zlib.error) as error:
            raise cannot_read(path, error) from error
        if head not in WARC_MAGIC:
            raise InputError(f"{path} is not a WARC file (it begins {head[:10]!r}); move it out "
                             f"of {directory}")
    return files


class Command(OfflineCommand):
    def short_desc(self) -> str:
        return "Write a CDXJ index of the archive's WARC files (cdxj-indexer)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--output", "-O", help="CDXJ file (default <ARCHIVE_DIR>/index.cdxj)")

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        paths = ArchivePaths.from_settings(self.settings)
        directory = paths.warc_dir
        output = output_file(opts.output or paths.index_file)
        files = warc_files_to_read(directory)
        try:
            counts = write_cdxj_counted(files, output, directory)
        except (ArchiveLoadFailed, EOFError, zlib.error) as error:
            raise InputError(f"cannot index the WARC files in {directory}: {error}") from error
        except OSError as error:
            raise cannot_write(output, error) from error
        print(f"Indexed {len(files)} WARC files from {directory}: {counts.lines} captures in "
              f"{output}")
        if counts.unresolved_not_modified:
            print(f"Left out {counts.unresolved_not_modified} 304 revalidations whose confirmed "
                  f"capture is not in these files")
