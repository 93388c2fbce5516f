"""Reference records built with warcio, to compare the writer's bytes with warcio's."""

from __future__ import annotations

from typing import Any

from warcio.statusandheaders import StatusAndHeaders

from storage.warc_records import http_head_bytes


class RawHttpHeaders(StatusAndHeaders):
    """HTTP status line and headers serialised byte for byte, as the writer stores them.

    warcio percent-encodes non-ASCII header values; ours are latin-1 decoded bytes from the
    wire, encoded back as latin-1 (or UTF-8 for text latin-1 cannot hold) by
    :func:`storage.warc_records.http_head_bytes`.  Handing warcio this class instead of its
    own makes warcio write the very bytes the writer should.
    """

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        """Set ``headers_buff``; warcio calls this before writing the record."""
        self.headers_buff = self.to_block()

    def to_block(self) -> bytes:
        """Return the status line and headers as bytes, ending with the blank line."""
        return http_head_bytes(f"{self.protocol} {self.statusline}", self.headers)
