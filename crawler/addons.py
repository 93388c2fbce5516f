"""Scrapy add-ons of the project: settings derived from other settings before a crawl starts.

``ContactUserAgent`` fills ``{contact_url}`` in ``USER_AGENT`` from ``CONTACT_URL``, so that
``-s CONTACT_URL=…`` alone gives portals' admins a way to reach whoever runs the crawl; robots.txt
matching, the requests and the WARC ``warcinfo`` record all see the final string. Without a
contact (allowed for loopback crawls only) the User-Agent leaves the ``+…;`` part out.
"""

from __future__ import annotations

import re


class ContactUserAgent:
    """Format ``USER_AGENT`` with ``CONTACT_URL``."""

    def update_settings(self, settings) -> None:
        template = settings.get("USER_AGENT") or ""
        if "{contact_url}" in template:
            contact = (settings.get("CONTACT_URL") or "").strip()
            # No contact (loopback crawls only, see crawler/extensions/contact.py): no "+; ".
            agent = (template.replace("{contact_url}", contact) if contact
                     else re.sub(r"\+?\{contact_url\}[;,]?\s*", "", template))
            settings.set("USER_AGENT", agent, priority=settings.getpriority("USER_AGENT"))
