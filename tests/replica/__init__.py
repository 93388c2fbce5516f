"""A replica of the Báo Nam Định (baonamdinh.vn) portal, served over HTTP on loopback.

`content.build_site()` generates a deterministic site and its ground truth, `pages` renders it,
`server` serves it with real HTTP semantics, and `process.ReplicaProcess` runs it as a subprocess
for tests (`python -m tests.replica --port 0` runs it by hand).
"""

from __future__ import annotations

from tests.replica.content import (
    SEED_ARTICLE_ID,
    ArticleSpec,
    ImageSpec,
    PageLayout,
    Section,
    Site,
    build_site,
)

__all__ = [
    "SEED_ARTICLE_ID",
    "ArticleSpec",
    "ImageSpec",
    "PageLayout",
    "Section",
    "Site",
    "build_site",
]
