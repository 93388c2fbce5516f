"""A modern news CMS: JSON-LD and OpenGraph, gzip sitemaps, RSS, "Xem thêm" paging by script.

Modelled on the CMSs provincial papers moved to around 2020: ``/<section>/<slug>-<id>.html``
articles with a ``NewsArticle`` JSON-LD block and ``og:type=article``; ``robots.txt`` naming a
sitemap index of monthly ``.xml.gz`` sitemaps (served as ``application/x-gzip``) and a sitemap of
sections; RSS feeds named by ``<link rel=alternate>``; section pages with ten stories and a "Xem
thêm" button whose ``data-url`` (``/ajax/load-more?cat=…&page=N``) returns the next stories and
the next button as an HTML fragment.

Noise and traps: the authors only in the meta line above the article (and in JSON-LD), share bars
above and below, an inline "Xem thêm:" teaser inside the body, stray ``.`` and ``&nbsp;``
paragraphs, "Tin liên quan" and "Từ khóa" boxes; tag pages with a "next page" link that never
ends (``/tag/<slug>?page=N`` repeats the same stories); a search page whose facets (``q`` ×
``tag`` × ``sort`` × ``page``) combine without end and which robots.txt does not forbid; static
pages.
"""

# ruff: noqa: E501  (HTML templates keep a page's lines whole)
from __future__ import annotations

import gzip
import json
from email.utils import format_datetime

from tests.replica.content import ArticleSpec, Section, slugify
from tests.replica.layouts.common import GZIP, RSS, TEXT, XML, Layout, Page, attr, text

SITE_NAME = "Báo Nam Hà Online"
PAGE_SIZE = 10
HOME_ITEMS = 12
FEED_ITEMS = 30
STATIC_PAGES = {"/gioi-thieu.html": "Giới thiệu", "/lien-he.html": "Liên hệ",
                "/quang-cao.html": "Quảng cáo"}


class ModernCmsLayout(Layout):
    """``modern-cms``: see the module docstring."""

    name = "modern-cms"
    summary = "modern CMS: JSON-LD, OpenGraph, gzip sitemaps, 'Xem thêm' AJAX paging"
    routes_query = True

    def article_path(self, article: ArticleSpec) -> str:
        return f"/{self.section_slug(article.section)}/{slugify(article.title)}-{article.id}.html"

    def not_article_paths(self) -> list[str]:
        tag = next(iter(self.site.tags()))
        return ["/", "/gioi-thieu.html", "/lien-he.html", f"/tag/{tag}",
                f"/tim-kiem?q={tag}&tag={tag}", "/ajax/load-more?cat=kinh-te&page=2",
                *(f"/{self.section_slug(s)}/" for s in self.site.sections)]

    def route(self, origin: str, path: str, query: dict[str, list[str]]) -> Page | None:
        def arg(name: str) -> str:
            return (query.get(name) or [""])[0]

        site = self.site
        if path == "/":
            return Page(self._home(origin).encode(), modified=self.newest)
        if path == "/robots.txt":
            body = f"User-agent: *\nDisallow: /admin/\n\nSitemap: {origin}/sitemap.xml\n"
            return Page(body.encode(), TEXT, self.newest)
        if path == "/sitemap.xml":
            return Page(self._sitemap_index(origin).encode(), XML, self.newest)
        if path == "/sitemaps/categories.xml":
            entries = [f"<url><loc>{origin}/{self.section_slug(s)}/</loc></url>"
                       for s in site.sections]
            return Page(_urlset(entries).encode(), XML, self.newest)
        if path.startswith("/sitemaps/articles-") and path.endswith(".xml.gz"):
            month = path.removeprefix("/sitemaps/articles-").removesuffix(".xml.gz")
            articles = site.articles_in_month(month)
            if not articles:
                return None
            entries = [f"<url><loc>{origin}{self.article_path(a)}</loc>"
                       f"<lastmod>{a.modified_iso}</lastmod></url>" for a in articles]
            body = gzip.compress(_urlset(entries).encode(), mtime=0)
            return Page(body, GZIP, self.newest_of(articles), compress=False)
        if path == "/rss/home.rss":
            return Page(self._rss(origin, site.articles[:FEED_ITEMS], SITE_NAME).encode(), RSS,
                        self.newest)
        if path.startswith("/rss/") and (section := self.section_by_slug(
                path.removeprefix("/rss/").removesuffix(".rss"))):
            articles = site.articles_in_section(section)[:FEED_ITEMS]
            return Page(self._rss(origin, articles, section.name).encode(), RSS,
                        self.newest_of(articles))
        if path == "/ajax/load-more":
            section = self.section_by_slug(arg("cat"))
            page = int(arg("page")) if arg("page").isdigit() else 0
            if section is None or page < 2:
                return None
            return Page(self._stories(section, page).encode(), modified=self.newest)
        if path.startswith("/tag/"):
            slug = path.removeprefix("/tag/")
            if slug not in site.tags():
                return None
            return Page(self._tag(origin, slug, arg("page")).encode(), modified=self.newest)
        if path == "/tim-kiem":
            return Page(self._search(origin, query).encode(), modified=self.newest)
        if path in STATIC_PAGES:
            main = (f"<h1>{text(STATIC_PAGES[path])}</h1><p>{text(SITE_NAME)} là cơ quan ngôn "
                    "luận của Đảng bộ tỉnh. Mọi thông tin xin gửi về hộp thư tòa soạn.</p>")
            return Page(self._document(origin, STATIC_PAGES[path], main).encode(),
                        modified=self.newest)
        if article := self.by_path.get(path):
            return Page(self._article(origin, article).encode(), modified=article.modified)
        if path.endswith("/") and (section := self.section_by_slug(path.strip("/"))):
            return Page(self._section(origin, section).encode(),
                        modified=self.newest_of(site.articles_in_section(section)))
        return None

    # --- discovery files ------------------------------------------------------------------------

    def _sitemap_index(self, origin: str) -> str:
        entries = [f"<sitemap><loc>{origin}/sitemaps/categories.xml</loc></sitemap>"]
        for month in self.site.months():
            newest = self.newest_of(self.site.articles_in_month(month))
            entries.append(f"<sitemap><loc>{origin}/sitemaps/articles-{month}.xml.gz</loc>"
                           f"<lastmod>{newest.isoformat()}</lastmod></sitemap>")
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                + "\n".join(entries) + "\n</sitemapindex>\n")

    def _rss(self, origin: str, articles: list[ArticleSpec], title: str) -> str:
        items = "".join(
            f"<item><title>{text(a.title)}</title><link>{origin}{self.article_path(a)}</link>"
            f"<description>{text(a.lead)}</description>"
            f"<pubDate>{format_datetime(a.published)}</pubDate></item>"
            for a in articles
        )
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
                f"<title>{text(title)}</title><link>{origin}/</link>{items}</channel></rss>\n")

    # --- pages ----------------------------------------------------------------------------------

    def _document(self, origin: str, title: str, main: str, head: str = "",
                  og_type: str = "website") -> str:
        nav = "".join(f'<li><a href="/{self.section_slug(s)}/">{text(s.name)}</a></li>'
                      for s in self.site.sections)
        feeds = "".join(
            f'<link rel="alternate" type="application/rss+xml" title="{attr(s.name)}" '
            f'href="/rss/{self.section_slug(s)}.rss">' for s in self.site.sections[:2]
        )
        return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{text(title)} | {SITE_NAME}</title>
<meta property="og:site_name" content="{SITE_NAME}">
<meta property="og:type" content="{og_type}">
<link rel="alternate" type="application/rss+xml" title="{SITE_NAME}" href="/rss/home.rss">
{feeds}
{head}
</head>
<body>
<header class="site-header"><a class="logo" href="/">{SITE_NAME}</a>
<nav class="main-nav"><ul><li><a href="/">Trang chủ</a></li>{nav}</ul></nav>
<form class="search" action="/tim-kiem"><input name="q" placeholder="Tìm kiếm"></form>
</header>
<main class="container">
{main}
</main>
<aside class="sidebar"><div class="box-most-read"><h3>Đọc nhiều</h3><ul>
{"".join(f'<li><a href="{self.article_path(a)}">{text(a.title)}</a></li>' for a in self.site.articles[:5])}
</ul></div></aside>
<footer class="site-footer"><p>© {SITE_NAME}. Giấy phép số 45/GP-BTTTT.</p>
<p><a href="/gioi-thieu.html">Giới thiệu</a> · <a href="/lien-he.html">Liên hệ</a> ·
<a href="/quang-cao.html">Quảng cáo</a> · <a href="https://www.facebook.com/example">Facebook</a></p>
</footer>
</body>
</html>
"""

    def _story(self, article: ArticleSpec) -> str:
        href = attr(self.article_path(article))
        thumb = (f'<a class="story-thumb" href="{href}"><img src="{attr(article.images[0].src)}"'
                 ' alt=""></a>' if article.images else "")
        return (f'<div class="story">{thumb}<h3 class="story-title"><a href="{href}">'
                f"{text(article.title)}</a></h3>"
                f'<time class="story-time" datetime="{article.published_iso}">'
                f"{article.published:%d/%m/%Y}</time>"
                f'<p class="story-sapo">{text(article.lead)}</p></div>')

    def _stories(self, section: Section, page: int) -> str:
        articles = self.site.articles_in_section(section)
        chunk = articles[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        html = '<div class="stories">' + "".join(map(self._story, chunk)) + "</div>"
        if page * PAGE_SIZE < len(articles):
            html += self._more_button(section, page + 1)
        return html

    def _more_button(self, section: Section, page: int) -> str:
        return (f'<button class="btn-loadmore" data-url="/ajax/load-more?cat='
                f'{self.section_slug(section)}&amp;page={page}">Xem thêm</button>')

    def _home(self, origin: str) -> str:
        boxes = "".join(
            f'<section class="box-cate"><h2><a href="/{self.section_slug(s)}/">{text(s.name)}'
            f"</a></h2>{''.join(map(self._story, self.site.articles_in_section(s)[:4]))}"
            f'<a class="more" href="/{self.section_slug(s)}/">Xem thêm</a></section>'
            for s in self.site.sections
        )
        main = ('<section class="latest"><h2>Tin mới</h2>'
                + "".join(map(self._story, self.site.articles[:HOME_ITEMS])) + "</section>" + boxes)
        head = ('<script type="application/ld+json">'
                + json.dumps({"@context": "https://schema.org", "@type": "WebSite",
                              "name": SITE_NAME, "url": origin + "/"}, ensure_ascii=False)
                + "</script>")
        return self._document(origin, "Trang chủ", main, head)

    def _section(self, origin: str, section: Section) -> str:
        articles = self.site.articles_in_section(section)
        main = (f'<h1 class="cate-title">{text(section.name)}</h1><div class="stories">'
                + "".join(map(self._story, articles[:PAGE_SIZE])) + "</div>")
        if len(articles) > PAGE_SIZE:
            main += self._more_button(section, 2)
        head = ('<script type="application/ld+json">'
                + json.dumps({"@context": "https://schema.org", "@type": "CollectionPage",
                              "name": section.name}, ensure_ascii=False) + "</script>")
        return self._document(origin, section.name, main, head)

    def _tag(self, origin: str, slug: str, page: str) -> str:
        name = self.site.tags()[slug]
        number = int(page) if page.isdigit() else 1
        # A buggy CMS: the "next page" of a tag never ends and repeats the same stories.
        main = (f'<h1 class="cate-title">Từ khóa: {text(name)}</h1><div class="stories">'
                + "".join(map(self._story, self.site.articles_with_tag(slug)[:PAGE_SIZE]))
                + f'</div><a class="next" rel="next" href="/tag/{slug}?page={number + 1}">'
                "Trang sau</a>"
                f' <a href="/tim-kiem?q={attr(name)}&amp;tag={slug}">Tìm bài liên quan</a>')
        return self._document(origin, f"Từ khóa {name}", main)

    def _search(self, origin: str, query: dict[str, list[str]]) -> str:
        word = (query.get("q") or [""])[0]
        tags = list(self.site.tags())
        facets = " ".join(
            f'<a href="/tim-kiem?q={attr(word)}&amp;tag={tag}&amp;sort={sort}&amp;page=2">'
            f"{tag} ({sort})</a>"
            for tag in tags[:6] for sort in ("moi-nhat", "cu-nhat")
        )
        found = [a for a in self.site.articles if word and word.lower() in a.title.lower()]
        main = (f'<h1>Kết quả tìm kiếm: {text(word)}</h1><div class="stories">'
                + "".join(map(self._story, found[:PAGE_SIZE])) + f'</div><div class="facets">'
                f"{facets}</div>")
        return self._document(origin, "Tìm kiếm", main)

    def _article(self, origin: str, article: ArticleSpec) -> str:
        url = origin + self.article_path(article)
        authors = [{"@type": "Person", "name": name} for name in article.authors] or [
            {"@type": "Organization", "name": SITE_NAME}]
        ld = {
            "@context": "https://schema.org", "@type": "NewsArticle", "headline": article.title,
            "description": article.lead, "datePublished": article.published_iso,
            "dateModified": article.modified_iso, "author": authors,
            "mainEntityOfPage": url, "articleSection": article.section.name,
            "publisher": {"@type": "Organization", "name": SITE_NAME},
        }
        if article.images:
            ld["image"] = [origin + image.src for image in article.images]
        head = "\n".join([
            f'<meta name="description" content="{attr(article.lead)}">',
            f'<meta property="og:title" content="{attr(article.title)}">',
            f'<meta property="og:description" content="{attr(article.lead)}">',
            f'<meta property="og:url" content="{attr(url)}">',
            f'<meta property="article:published_time" content="{article.published_iso}">',
            f'<meta property="article:modified_time" content="{article.modified_iso}">',
            f'<meta property="article:section" content="{attr(article.section.name)}">',
            *(f'<meta property="og:image" content="{attr(origin + image.src)}">'
              for image in article.images[:1]),
            f'<link rel="canonical" href="{attr(url)}">',
            '<script type="application/ld+json">' + json.dumps(ld, ensure_ascii=False)
            + "</script>",
        ])
        layout = article.layout
        placed = self.placed_images(article)
        related = [self.site.article_by_id(i) for i in layout.related_ids]
        related = [a for a in related if a is not None]
        body: list[str] = []
        for index, paragraph in enumerate(article.paragraphs):
            for image, _ in placed.get(index, []):
                body.append(f'<figure class="image"><img src="{attr(image.src)}" alt="'
                            f'{attr(image.caption)}"><figcaption>{text(image.caption_text)}'
                            "</figcaption></figure>")
            body.append(f"<p>{text(paragraph)}</p>")
            if index == 0 and related:
                body.append(f'<div class="box-related-inline"><span>Xem thêm:</span> <a href="'
                            f'{attr(self.article_path(related[0]))}">{text(related[0].title)}'
                            "</a></div>")
            if layout.inline_ad_after == index:
                body.append('<div class="ads-inline">Quảng cáo</div>')
        body += ["<p>.</p>" if kind == "div-dot" else "<p>&nbsp;</p>"
                 for kind in layout.widget_remains[:2]]
        share = ('<div class="social-share"><span>Chia sẻ</span> <a href="https://www.facebook.com/'
                 f'sharer/sharer.php?u={attr(url)}">Facebook</a> <a href="javascript:void(0)">Zalo'
                 '</a> <a href="javascript:window.print()">In bài</a></div>')
        tags = " ".join(f'<a href="/tag/{slugify(tag)}">{text(tag)}</a>' for tag in article.tags)
        related_box = "".join(f'<li><a href="{attr(self.article_path(a))}">{text(a.title)}</a>'
                              "</li>" for a in related)
        main = "\n".join([
            f'<div class="breadcrumbs"><a href="/">Trang chủ</a> › <a href="/'
            f'{self.section_slug(article.section)}/">{text(article.section.name)}</a></div>',
            '<article class="article-detail">',
            f'<h1 class="article-title">{text(article.title)}</h1>',
            '<div class="article-meta">'
            + (f'<span class="article-author">{text(" - ".join(article.authors))}</span> '
               if article.authors else "")
            + f'<span class="article-time">{article.published:%H:%M | %d/%m/%Y}</span></div>',
            share,
            f'<h2 class="article-sapo">{text(article.lead)}</h2>',
            '<div class="article-body">', *body, "</div>",
            share,
            f'<div class="article-tags"><span>Từ khóa:</span> {tags}</div>' if tags else "",
            "</article>",
            f'<section class="box-related"><h3>Tin liên quan</h3><ul>{related_box}</ul></section>',
        ])
        return self._document(origin, article.title, main, head, og_type="article")


def _urlset(entries: list[str]) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(entries) + "\n</urlset>\n")
