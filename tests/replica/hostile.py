"""Hostile mode of the replica portal: pages that try to lead a crawler off the crawled origin.

`python -m tests.replica --port 0 --hostile-port Q` serves the usual portal, plus, on top of it,
links, redirects, sitemaps, feed items, canonicals and images that point at *other origins* of
the same machine: another port (``127.0.0.1:Q``), another address (``127.0.0.2:Q``), another
scheme (``https://127.0.0.1:Q``), another host name for the replica's own port
(``localhost:P``, which reaches this very server under another ``Host``), and the real portal's
domain (``https://baonamdinh.vn``, which a mirror crawl must rewrite or refuse, never contact).
Only loopback addresses are ever named, apart from that one real domain.

A test runs a witness server on port Q (``tests/replica/witness.py``) and checks that it
received nothing, while the replica's own stats count requests per origin (``Host`` header).

What is hostile, by the index of the article in `Site.articles` (newest first):

* ``REDIRECTED``: the article's path answers a redirect to the same path elsewhere (302 to
  another port, 302 to another host name, 301 to the real domain, 302 to another scheme) or an
  HTML ``<meta http-equiv="refresh">`` to another address. A crawler loses these five articles
  and must report each as an off-site redirect.
* ``CANONICAL_COLLISION``: the page's canonical names another article's URL (on the origin).
* ``CANONICAL_ELSEWHERE``: canonicals naming another address, another port, and the real
  domain (the last one is the page's own path, so a mirror crawl keeps it, rewritten).
* ``IMAGES_ELSEWHERE``: an extra image in the body, once per other origin.
* listings (home page and first section pages), the sitemap index, monthly sitemaps, the home
  feed and robots.txt name article, listing and sitemap URLs on every other origin; the home
  page's "next page" link and one protocol-relative link lead elsewhere too.

The default replica (no ``--hostile-port``) is unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from tests.replica.content import ArticleSpec, Site

REAL_SITE = "https://baonamdinh.vn"
# Article index -> (redirect kind, HTTP status; 200 means an HTML meta refresh).
REDIRECTED = {1: ("other-port", 302), 2: ("other-host", 302), 3: ("real-site", 301),
              4: ("other-scheme", 302), 5: ("other-address", 200)}
# Article index -> index of the article whose URL it names as canonical.
CANONICAL_COLLISION = {6: 7}
# Article index -> where its canonical points (the page's own path on that origin).
CANONICAL_ELSEWHERE = {8: "other-address", 9: "other-port", 10: "real-site"}
IMAGES_ELSEWHERE = 11
# Articles linked from listings, sitemaps and feeds on every other origin.
LINKED_ELSEWHERE = (12, 13)


@dataclass(frozen=True)
class HostilePlan:
    """The hostile additions of one replica; `other_port` is where the witness listens."""

    other_port: int

    def origins(self, origin: str) -> dict[str, str]:
        """Every origin other than `origin` this replica's pages name, by kind."""
        parts = urlsplit(origin)
        host, port = parts.hostname or "127.0.0.1", parts.port
        other_host = "127.0.0.1" if host == "localhost" else "localhost"
        return {
            "other-port": f"http://{host}:{self.other_port}",
            "other-host": f"http://{other_host}:{port}",
            "other-address": f"http://127.0.0.2:{self.other_port}",
            "other-scheme": f"https://{host}:{self.other_port}",
            "real-site": REAL_SITE,
        }

    def elsewhere(self, origin: str) -> list[str]:
        """The other origins on this machine (the real domain left out)."""
        return [o for kind, o in self.origins(origin).items() if kind != "real-site"]

    @staticmethod
    def redirected(site: Site) -> dict[str, tuple[str, int]]:
        """Article paths that redirect elsewhere, with the redirect's kind and status."""
        return {
            site.articles[index].path: plan
            for index, plan in REDIRECTED.items() if index < len(site.articles)
        }

    def redirect(self, site: Site, path: str, origin: str) -> tuple[int, str] | None:
        """Status and target of the redirect `path` answers with, or None."""
        plan = self.redirected(site).get(path)
        if plan is None:
            return None
        kind, status = plan
        return status, self.origins(origin)[kind] + path

    def refresh_page(self, target: str) -> str:
        """An HTML page that sends the browser to `target` at once."""
        return (
            '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="0; url={escape(target)}">'
            "<title>Đang chuyển trang</title></head><body></body></html>\n"
        )

    def article(self, html: str, site: Site, article: ArticleSpec, origin: str) -> str:
        """An article page with its hostile canonical or extra images, if it has any."""
        index = site.articles.index(article)
        canonical = None
        if index in CANONICAL_COLLISION and CANONICAL_COLLISION[index] < len(site.articles):
            canonical = site.articles[CANONICAL_COLLISION[index]].url(origin)
        elif index in CANONICAL_ELSEWHERE:
            canonical = self.origins(origin)[CANONICAL_ELSEWHERE[index]] + article.path
        if canonical is not None:
            html = re.sub(r'<link rel="canonical" href="[^"]*">',
                          f'<link rel="canonical" href="{escape(canonical)}">', html, count=1)
        if index == IMAGES_ELSEWHERE:
            images = "\n".join(
                f'<table class="image"><tr><td><img src="{escape(o)}/uploads/hostile/{n}.jpg" '
                f'alt=""></td></tr><tr><td class="image-caption">Ảnh {n}</td></tr></table>'
                for n, o in enumerate(self.elsewhere(origin), 1)
            )
            html = html.replace('<div class="detail-content" id="contentdetail">',
                                '<div class="detail-content" id="contentdetail">\n' + images, 1)
        return html

    def _linked(self, site: Site) -> list[ArticleSpec]:
        return [site.articles[i] for i in LINKED_ELSEWHERE if i < len(site.articles)]

    def listing(self, html: str, site: Site, origin: str, home: bool) -> str:
        """A listing page with article links (and, on the home page, paging) elsewhere."""
        items = [
            f'<div class="item"><a class="title" href="{escape(o + a.path)}">{escape(a.title)}'
            "</a></div>"
            for a in self._linked(site) for o in self.origins(origin).values()
        ]
        if self._linked(site):
            # Protocol-relative: the page's scheme, another host.
            other_host = urlsplit(self.origins(origin)["other-host"]).netloc
            items.append(f'<div class="item"><a class="title" href="//{other_host}'
                         f'{self._linked(site)[0].path}">x</a></div>')
        html = html.replace('<div class="list-news">', '<div class="list-news">\n'
                            + "\n".join(items), 1)
        if home:
            next_page = self.origins(origin)["other-port"] + site.sections[0].page_path(2)
            html = html.replace(
                '<div class="sidebar">',
                f'<div class="paging"><a class="next" href="{escape(next_page)}">Trang sau</a>'
                '</div>\n<div class="sidebar">', 1)
        return html

    def sitemap_index(self, xml: str, site: Site, origin: str) -> str:
        """The sitemap index, listing the newest month's sitemap on every other origin too."""
        month = site.months()[0]
        entries = "".join(
            f"<sitemap><loc>{escape(o)}/sitemaps/sitemap-{month}.xml</loc></sitemap>\n"
            for o in self.origins(origin).values()
        )
        return xml.replace("</sitemapindex>", entries + "</sitemapindex>")

    def urlset(self, xml: str, site: Site, origin: str) -> str:
        """A monthly sitemap that also lists the linked articles on every other origin."""
        entries = "".join(
            f"<url><loc>{escape(o + a.path)}</loc></url>\n"
            for a in self._linked(site) for o in self.origins(origin).values()
        )
        return xml.replace("</urlset>", entries + "</urlset>")

    def feed(self, xml: str, site: Site, origin: str) -> str:
        """The home feed with items whose links are on every other origin."""
        items = "".join(
            f"<item><title>{escape(a.title)}</title><link>{escape(o + a.path)}</link></item>\n"
            for a in self._linked(site) for o in self.origins(origin).values()
        )
        return xml.replace("</channel>", items + "</channel>")

    def robots(self, text: str, origin: str) -> str:
        """robots.txt naming a sitemap on another port as well."""
        return text + f"Sitemap: {self.origins(origin)['other-port']}/sitemap.xml\n"
