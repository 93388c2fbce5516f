"""The catalogue of portals with no profile: ``spiders/catalogue.json``, read as data.

Each entry names one portal (Vietnam's provincial party papers first): ``id``, ``name``,
``province``, ``home`` (its home URL), ``feeds`` and ``sitemaps`` where known, and ``sources``:
where each fact was found, with ``verified`` false for what nobody has checked against the live
site. ``scrapy crawl portal -a site=<id>`` starts from the entry's home URL (and its feeds and
sitemaps); ``scrapy list`` shows the catalogue apart from the profiled sites. Nothing here is
assumed to be reachable: the tests read the file, never the sites.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

# Through importlib.resources: in a scrapyd egg the package is a zip file, not a directory.
CATALOGUE_PATH = resources.files(__package__).joinpath("catalogue.json")


class CatalogueError(LookupError):
    """No such entry, or the catalogue file is unreadable."""


@cache
def load_catalogue(path: Path = CATALOGUE_PATH) -> dict[str, dict]:
    """The catalogue's entries by id."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CatalogueError(f"{path}: cannot read the catalogue: {error}") from error
    return {entry["id"]: entry for entry in data["portals"]}


def catalogue_entry(site_id: str) -> dict:
    """The entry ``site_id``; a one-line error naming the known ids otherwise."""
    entries = load_catalogue()
    if site_id not in entries:
        raise CatalogueError(
            f"-a site={site_id!r}: not in {CATALOGUE_PATH.name} (known: "
            f"{', '.join(sorted(entries)[:12])}{', …' if len(entries) > 12 else ''})")
    return entries[site_id]
