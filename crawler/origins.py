"""What counts as on-site for one crawl: origins (scheme, host, port), not host names.

An origin is the scheme, the host (lower case) and the port of a URL, the port being the
scheme's default when the URL names none (``http://x/`` and ``http://x:80/`` are one origin).
``SiteOrigins`` answers "may the crawl request this URL?":

* a normal crawl (the profile's own site): every host of the profile's ``domains`` and their
  subdomains (``baonamdinh.vn``, ``www.baonamdinh.vn``, ``m.baonamdinh.vn``), over ``http`` and
  ``https`` on the default port only (80, 443), plus the ``base_url`` origin exactly (which
  may name another port);
* a mirror crawl (``-a base_url=`` on a host outside the profile's domains, e.g. the replica
  on ``http://127.0.0.1:8765``): the mirror's exact origin and nothing else. ``localhost`` and
  ``127.0.0.1`` are different origins, and so are another port and another scheme of the same
  host. Links to the profile's real domains are moved onto the mirror by the spider
  (``PortalSpider.rewrite``) before they are requested; what still names the real domain (a
  redirect) is off-site.

Used by the spider (which URLs it rewrites, which canonical URLs it trusts), by ``scrapy
reparse`` (the same canonical rule offline) and by ``crawler/middlewares/origin.py``, which checks
every request against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urldefrag, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin | None:
    """``(scheme, host, port)`` of an absolute http(s) URL, or None (no host, other scheme)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port out of range or not a number
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme]


def origin_text(origin: Origin) -> str:
    """An origin as a URL prefix, default ports left out (``http://127.0.0.1:8765``)."""
    scheme, host, port = origin
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if DEFAULT_PORTS[scheme] == port else f"{scheme}://{host}:{port}"


def within_domains(host: str, domains: tuple[str, ...] | list[str]) -> bool:
    """Whether ``host`` is one of ``domains`` or a subdomain of one."""
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def rewrite_onto(url: str, base_url: str, domains: tuple[str, ...] | list[str]) -> str:
    """``url`` without its fragment, moved onto ``base_url`` when it is on one of ``domains``
    under another host name (a mirror, or ``www.`` of the portal); other URLs stay as they are.
    """
    url = urldefrag(url)[0]
    parts = urlsplit(url)
    base = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if host != base.hostname and within_domains(host, domains):
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
    return url


def trust_canonical(
    record: dict, base_url: str, domains: tuple[str, ...] | list[str], origins: SiteOrigins
) -> str | None:
    """Keep ``record``'s canonical URL only when it is on-site; return why not, or None.

    The canonical URL is moved onto ``base_url`` like a link (`rewrite_onto`). One on another
    origin gives way to the fetched ``url``; ``canonical_rejected`` (``offsite``) and
    ``canonical_claimed`` (the URL the page named) are set on the record.
    """
    claimed = record.get("canonical_url")
    if not claimed or claimed == record["url"]:
        return None
    canonical = rewrite_onto(claimed, base_url, domains)
    if origins.allows(canonical):
        record["canonical_url"] = canonical
        return None
    record.update(canonical_url=record["url"], canonical_rejected="offsite",
                  canonical_claimed=claimed)
    return "offsite"


def capture_base_url(url: str, base_url: str, domains: tuple[str, ...] | list[str]) -> str:
    """The ``base_url`` a crawl that fetched ``url`` had: the profile's own for its domains,
    else (a mirror) the URL's origin."""
    origin = origin_of(url)
    if origin is None or within_domains(origin[1], domains):
        return base_url
    return origin_text(origin) + "/"


@dataclass(frozen=True)
class SiteOrigins:
    """The origins one crawl may request (see the module docstring)."""

    # Hosts (and their subdomains) allowed on the default port of http and https.
    domains: tuple[str, ...] = ()
    # Origins allowed exactly.
    exact: frozenset[Origin] = frozenset()

    @classmethod
    def for_crawl(cls, base_url: str, domains: tuple[str, ...] | list[str]) -> SiteOrigins:
        """The origins of a crawl of ``base_url`` by a profile owning ``domains``."""
        base = origin_of(base_url)
        if base is None:
            raise ValueError(f"base_url {base_url!r}: expected an http(s) URL with a host")
        lowered = tuple(domain.lower().rstrip(".") for domain in domains)
        if within_domains(base[1], lowered):
            return cls(lowered, frozenset({base}))
        return cls((), frozenset({base}))

    @property
    def mirror(self) -> bool:
        """True for a mirror crawl: one exact origin, the profile's domains off-site."""
        return not self.domains

    def allows(self, url: str) -> bool:
        """Whether the crawl may request ``url``."""
        origin = origin_of(url)
        if origin is None:
            return False
        if origin in self.exact:
            return True
        scheme, host, port = origin
        return port == DEFAULT_PORTS[scheme] and within_domains(host, self.domains)

    def describe(self) -> str:
        """The rule in words, for log lines."""
        exact = ", ".join(sorted(origin_text(origin) for origin in self.exact))
        if self.mirror:
            return f"only {exact}"
        domains = ", ".join(self.domains)
        return f"{domains} and their subdomains (http/https, default ports), and {exact}"
