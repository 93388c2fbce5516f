"""Find a site profile by site id or by a URL's domain, and the spider class of a site.

Profiles live in the site modules under ``spiders/`` (``spiders/<site_id>.py`` defines
``PROFILE``), so adding a site never touches this module. Loading a site module imports its
spider class, and Scrapy with it: that is why discovery lives here and not in
``crawler/parsing`` (pure functions from bytes to fields, no Scrapy). Which host belongs to a
profile is ``crawler/origins.py``'s rule (`within_domains`).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from urllib.parse import urlsplit

from crawler.origins import within_domains
from crawler.parsing.profile import SiteProfile

SITES_PACKAGE = "spiders"


class UnknownSiteError(LookupError):
    """No site module of that id exists."""


@cache
def load_profile(site_id: str) -> SiteProfile:
    """Return ``PROFILE`` from ``spiders/<site_id>.py``."""
    try:
        module = importlib.import_module(f"{SITES_PACKAGE}.{site_id}")
    except ModuleNotFoundError as error:
        known = ", ".join(site_ids()) or "none"
        raise UnknownSiteError(f"unknown site {site_id!r} (known sites: {known})") from error
    profile = getattr(module, "PROFILE", None)
    if not isinstance(profile, SiteProfile):
        raise UnknownSiteError(f"{SITES_PACKAGE}/{site_id}.py defines no PROFILE")
    return profile


@cache
def site_ids() -> tuple[str, ...]:
    """Ids of every site: the modules under ``spiders/`` that define a ``PROFILE``.

    The spider machinery beside them (``base``, ``history``, ``platforms/``) defines none, and a
    module added there later is left out the same way.
    """
    package = importlib.import_module(SITES_PACKAGE)
    ids = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{SITES_PACKAGE}.{info.name}")
        if isinstance(getattr(module, "PROFILE", None), SiteProfile):
            ids.append(info.name)
    return tuple(sorted(ids))


def find_profile(site: str | None = None, url: str | None = None) -> SiteProfile | None:
    """The profile named by ``site``, else the one whose domains cover ``url``'s host, else None."""
    if site:
        return load_profile(site)
    host = urlsplit(url).hostname if url else None
    if not host:
        return None
    for site_id in site_ids():
        profile = load_profile(site_id)
        if within_domains(host, profile.domains):
            return profile
    return None


def spider_class(site_id: str) -> type:
    """The spider class ``spiders/<site_id>.py`` defines (the one whose ``name`` is the id)."""
    load_profile(site_id)
    module = importlib.import_module(f"{SITES_PACKAGE}.{site_id}")
    for value in vars(module).values():
        if isinstance(value, type) and getattr(value, "name", None) == site_id:
            return value
    raise UnknownSiteError(f"{SITES_PACKAGE}/{site_id}.py defines no spider named {site_id!r}")
