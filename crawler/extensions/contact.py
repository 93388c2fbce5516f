"""Refuse to start a live crawl whose User-Agent gives portal operators nobody to write to.

Every request names ``CONTACT_URL`` in its User-Agent (``crawler/addons.py``): the address a
portal's admin uses when the crawl bothers them. There is no sensible default, so a crawl that
reaches any host other than loopback stops when it starts, before any other component runs,
with one line saying how to set it. Crawls of ``127.0.0.0/8``, ``::1`` and ``localhost`` (the
replica portal, ``make demo``, the tests, a local mirror) need none. The hosts are read from the
spider: its ``base_url`` (the portal spider crawls only that origin) and its ``start_urls``; a
spider that shows neither counts as live. Nothing is resolved: the check needs no network.

Settings: ``CONTACT_URL`` (an ``http(s)://`` page or a ``mailto:`` address; empty by default).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured

from crawler.cli import InputError

CONTACT_SCHEMES = ("http", "https", "mailto")


def is_loopback(host: str) -> bool:
    """True for a loopback address or the ``localhost`` name (RFC 6761), without resolving."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def crawled_hosts(spider) -> set[str]:
    """The hosts a spider says it crawls (empty when it does not say)."""
    urls = [getattr(spider, "base_url", None), *getattr(spider, "start_urls", ())]
    return {urlsplit(url).hostname or "" for url in urls if url}


def check_contact(contact: str) -> None:
    """Refuse a ``CONTACT_URL`` nobody could use."""
    parts = urlsplit(contact)
    if parts.scheme not in CONTACT_SCHEMES or not (parts.netloc or parts.path):
        raise InputError(f"CONTACT_URL {contact!r} is not a web page or mailto: address; set "
                         "it with -s CONTACT_URL=https://your.site/contact or "
                         "-s CONTACT_URL=mailto:you@example.org")


class ContactRequired:
    """Check the contact once, when the crawl is set up; do nothing afterwards."""

    @classmethod
    def from_crawler(cls, crawler):
        contact = (crawler.settings.get("CONTACT_URL") or "").strip()
        if contact:
            check_contact(contact)
        elif crawler.spider is not None:  # None: settings built without a crawl (tests)
            hosts = crawled_hosts(crawler.spider)
            if not hosts or not all(is_loopback(host) for host in hosts):
                where = ", ".join(sorted(hosts)) or crawler.spider.name
                raise InputError(
                    f"a crawl of {where} must say who runs it: set "
                    "-s CONTACT_URL=mailto:you@example.org (or an https:// page that reaches "
                    "you), or CONTACT_URL in crawler/settings.py; crawls of loopback hosts "
                    "need none")
        # Nothing to do during the crawl.
        raise NotConfigured
