"""A WordPress news site, as small provincial and district papers run them.

Modelled on a WordPress theme with Jetpack: ``/yyyy/mm/dd/<slug>/`` posts with ``<time
class="entry-date published" datetime=…>``, ``og:type=article`` and ``article:published_time``
(no JSON-LD); the core sitemap (``/wp-sitemap.xml``: posts, categories, tags, users) named in
``robots.txt``; ``/feed/``, category and comment feeds; categories at ``/chuyen-muc/<slug>/``
paged ``/page/N/`` with ``rel=next``.

Noise and traps: the post's WordPress author ("BBT", the editorial account) in the meta line
while the journalist's byline is the last paragraph of the content; the lead as a bold first
paragraph; Jetpack's share bar ("Chia sẻ:") and related posts ("Có liên quan", teasers with
dates) inside the content container; tags and category links; previous/next post links; two
comments with ``?replytocom=`` reply links and the comment form; a sidebar with recent posts,
a tag cloud, a calendar and monthly archives (``/yyyy/mm/``, ``/yyyy/mm/dd/``); ``?share=``
links; a search form (``/?s=``).
"""

# ruff: noqa: E501  (HTML templates keep a page's lines whole)
from __future__ import annotations

from email.utils import format_datetime

from tests.replica.content import ArticleSpec, Section, slugify
from tests.replica.layouts.common import RSS, TEXT, XML, Layout, Page, attr, text

SITE_NAME = "Báo Nam Hà"
PAGE_SIZE = 10
SITEMAP_PAGE = 150
FEED_ITEMS = 20
MONTHS = ("Một", "Hai", "Ba", "Tư", "Năm", "Sáu", "Bảy", "Tám", "Chín", "Mười", "Mười Một",
          "Mười Hai")


class WordPressLayout(Layout):
    """``wordpress``: see the module docstring."""

    name = "wordpress"
    summary = "WordPress: /yyyy/mm/dd/slug/, <time datetime>, comment form, tag cloud"

    def article_path(self, article: ArticleSpec) -> str:
        return f"/{article.published:%Y/%m/%d}/{slugify(article.title)}/"

    def not_article_paths(self) -> list[str]:
        tag = next(iter(self.site.tags()))
        return ["/", "/page/2/", f"/tag/{tag}/", "/author/bbt/", "/2020/02/", "/2020/02/12/",
                "/gioi-thieu/",
                *(f"/chuyen-muc/{self.section_slug(s)}/" for s in self.site.sections)]

    def route(self, origin: str, path: str, query: dict[str, list[str]]) -> Page | None:
        site = self.site
        if query.get("s"):
            found = [a for a in site.articles if query["s"][0].lower() in a.title.lower()]
            return self._archive(origin, f"Kết quả tìm kiếm: {query['s'][0]}", found, 1, "/")
        if path == "/robots.txt":
            body = ("User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n\n"
                    f"Sitemap: {origin}/wp-sitemap.xml\n")
            return Page(body.encode(), TEXT, self.newest)
        if path == "/wp-sitemap.xml":
            return Page(self._sitemap_index(origin).encode(), XML, self.newest)
        if path.startswith("/wp-sitemap-"):
            return self._sitemap(origin, path)
        if path in ("/feed/", "/comments/feed/"):
            return Page(self._rss(origin, site.articles[:FEED_ITEMS], path == "/comments/feed/")
                        .encode(), RSS, self.newest)
        if article := self.by_path.get(path):
            return Page(self._article(origin, article).encode(), modified=article.modified)
        if path == "/gioi-thieu/":
            return Page(self._document(origin, "Giới thiệu", (
                '<article class="page"><h1 class="entry-title">Giới thiệu</h1><div class="entry-'
                f'content"><p>{SITE_NAME} là trang tin điện tử của Hội Nhà báo tỉnh.</p></div>'
                "</article>")).encode(), modified=self.newest)
        parts = [part for part in path.split("/") if part]
        page = 1
        if len(parts) >= 2 and parts[-2] == "page" and parts[-1].isdigit():
            page, parts = int(parts[-1]), parts[:-2]
        base = "/" + "".join(f"{part}/" for part in parts)
        if not parts:
            return self._archive(origin, "Tin mới", site.articles, page, base)
        if parts[0] == "chuyen-muc" and len(parts) == 2 and (
                section := self.section_by_slug(parts[1])):
            return self._archive(origin, section.name, site.articles_in_section(section), page,
                                 base)
        if parts[0] == "chuyen-muc" and len(parts) == 3 and parts[2] == "feed" and (
                section := self.section_by_slug(parts[1])):
            articles = site.articles_in_section(section)[:FEED_ITEMS]
            return Page(self._rss(origin, articles).encode(), RSS, self.newest_of(articles))
        if parts[0] == "tag" and len(parts) == 2 and parts[1] in site.tags():
            return self._archive(origin, f"Thẻ: {site.tags()[parts[1]]}",
                                 site.articles_with_tag(parts[1]), page, base)
        if parts == ["author", "bbt"]:
            return self._archive(origin, "Tác giả: BBT", site.articles, page, base)
        if all(part.isdigit() for part in parts) and len(parts) in (2, 3):
            stamp = "-".join(parts)
            found = [a for a in site.articles if a.published_iso.startswith(stamp)]
            return self._archive(origin, f"Lưu trữ {stamp}", found, page, base) if found else None
        return None

    # --- discovery files ------------------------------------------------------------------------

    def _sitemap_index(self, origin: str) -> str:
        posts = -(-len(self.site.articles) // SITEMAP_PAGE)
        names = [f"posts-post-{n}" for n in range(1, posts + 1)]
        names += ["taxonomies-category-1", "taxonomies-post_tag-1", "users-1"]
        entries = "".join(f"<sitemap><loc>{origin}/wp-sitemap-{name}.xml</loc></sitemap>"
                          for name in names)
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps'
                f'.org/schemas/sitemap/0.9">{entries}</sitemapindex>\n')

    def _sitemap(self, origin: str, path: str) -> Page | None:
        name = path.removeprefix("/wp-sitemap-").removesuffix(".xml")
        site = self.site
        if name.startswith("posts-post-") and name.rsplit("-", 1)[1].isdigit():
            number = int(name.rsplit("-", 1)[1])
            # Oldest first, as WordPress orders them: old sitemaps keep their content.
            articles = site.articles[::-1][(number - 1) * SITEMAP_PAGE: number * SITEMAP_PAGE]
            entries = [f"<url><loc>{origin}{self.article_path(a)}</loc>"
                       f"<lastmod>{a.modified_iso}</lastmod></url>" for a in articles]
        elif name == "taxonomies-category-1":
            entries = [f"<url><loc>{origin}/chuyen-muc/{self.section_slug(s)}/</loc></url>"
                       for s in site.sections]
        elif name == "taxonomies-post_tag-1":
            entries = [f"<url><loc>{origin}/tag/{slug}/</loc></url>" for slug in site.tags()]
        elif name == "users-1":
            entries = [f"<url><loc>{origin}/author/bbt/</loc></url>"]
        else:
            return None
        if not entries:
            return None
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/'
                'schemas/sitemap/0.9">' + "".join(entries) + "</urlset>\n")
        return Page(body.encode(), XML, self.newest)

    def _rss(self, origin: str, articles: list[ArticleSpec], comments: bool = False) -> str:
        fragment = "#comment-1" if comments else ""
        items = "".join(
            f"<item><title>{text(a.title)}</title>"
            f"<link>{origin}{self.article_path(a)}{fragment}</link>"
            f"<pubDate>{format_datetime(a.published)}</pubDate>"
            f"<description>{text(a.lead)}</description></item>"
            for a in articles
        )
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>'
                f"{SITE_NAME}</title><link>{origin}/</link>{items}</channel></rss>\n")

    # --- pages ----------------------------------------------------------------------------------

    def _document(self, origin: str, title: str, main: str, head: str = "",
                  body_class: str = "home") -> str:
        menu = "".join(
            f'<li class="menu-item"><a href="/chuyen-muc/{self.section_slug(s)}/">{text(s.name)}'
            "</a></li>" for s in self.site.sections
        )
        recent = "".join(f'<li><a href="{self.article_path(a)}">{text(a.title)}</a></li>'
                         for a in self.site.articles[:5])
        cloud = " ".join(
            f'<a href="/tag/{slug}/" class="tag-cloud-link" style="font-size: {8 + i % 6}pt">'
            f"{text(name)}</a>" for i, (slug, name) in enumerate(sorted(self.site.tags().items()))
        )
        newest = self.site.articles[0].published
        days = sorted({a.published.day for a in self.site.articles
                       if a.published.strftime("%Y-%m") == newest.strftime("%Y-%m")})
        calendar = " ".join(f'<a href="/{newest:%Y/%m}/{day:02d}/">{day}</a>' for day in days)
        months = "".join(
            f'<li><a href="/{month.replace("-", "/")}/">Tháng {MONTHS[int(month[5:]) - 1]} '
            f"{month[:4]}</a></li>" for month in self.site.months()
        )
        return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{text(title)} &#8211; {SITE_NAME}</title>
<link rel="alternate" type="application/rss+xml" title="{SITE_NAME} &raquo; Dòng thông tin" href="{origin}/feed/">
<link rel="alternate" type="application/rss+xml" title="{SITE_NAME} &raquo; Dòng bình luận" href="{origin}/comments/feed/">
<meta property="og:site_name" content="{SITE_NAME}">
<meta name="generator" content="WordPress 5.3.2">
{head}
</head>
<body class="{body_class}">
<div id="page" class="site">
<header id="masthead" class="site-header"><p class="site-title"><a href="{origin}/" rel="home">{SITE_NAME}</a></p>
<nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">
<li class="menu-item"><a href="{origin}/">Trang chủ</a></li>{menu}
<li class="menu-item"><a href="{origin}/gioi-thieu/">Giới thiệu</a></li></ul></nav></header>
<div id="content" class="site-content"><div id="primary" class="content-area"><main id="main" class="site-main">
{main}
</main></div>
<aside id="secondary" class="widget-area">
<section class="widget widget_search"><form role="search" method="get" action="{origin}/"><input type="search" name="s"><button>Tìm kiếm</button></form></section>
<section class="widget widget_recent_entries"><h2 class="widget-title">Bài viết mới</h2><ul>{recent}</ul></section>
<section class="widget widget_tag_cloud"><h2 class="widget-title">Thẻ</h2><div class="tagcloud">{cloud}</div></section>
<section class="widget widget_calendar"><table id="wp-calendar"><caption>Tháng {MONTHS[newest.month - 1]} {newest.year}</caption><tbody><tr><td>{calendar}</td></tr></tbody></table></section>
<section class="widget widget_archive"><h2 class="widget-title">Lưu trữ</h2><ul>{months}</ul></section>
</aside></div>
<footer id="colophon" class="site-footer"><div class="site-info">Bản quyền © {SITE_NAME}. Vận hành bởi WordPress.</div></footer>
</div>
</body>
</html>
"""

    def _teaser(self, article: ArticleSpec) -> str:
        href = attr(self.article_path(article))
        thumb = (f'<a class="post-thumbnail" href="{href}"><img src="{attr(article.images[0].src)}"'
                 ' alt=""></a>' if article.images else "")
        return (f'<article class="post type-post">{thumb}<header class="entry-header"><h2 class='
                f'"entry-title"><a href="{href}" rel="bookmark">{text(article.title)}</a></h2>'
                f'<div class="entry-meta"><time class="entry-date published" datetime="'
                f'{article.published_iso}">{article.published:%d/%m/%Y}</time></div></header>'
                f'<div class="entry-summary"><p>{text(article.lead)} [&hellip;]</p></div>'
                "</article>")

    def _archive(self, origin: str, title: str, articles: list[ArticleSpec], page: int,
                 base: str) -> Page | None:
        pages = max(1, -(-len(articles) // PAGE_SIZE))
        if page > pages:
            return None
        chunk = articles[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        links = []
        if page > 1:
            links.append(f'<a class="prev page-numbers" href="{base}page/{page - 1}/">« Trang trước</a>')
        links += [f'<a class="page-numbers" href="{base}page/{n}/">{n}</a>' for n in
                  range(1, pages + 1) if n != page and (n <= 2 or abs(n - page) <= 1 or n == pages)]
        head = ""
        if page < pages:
            links.append(f'<a class="next page-numbers" href="{base}page/{page + 1}/">Trang sau »</a>')
            head = f'<link rel="next" href="{origin}{base}page/{page + 1}/">'
        main = (f'<header class="page-header"><h1 class="page-title">{text(title)}</h1></header>'
                + "".join(map(self._teaser, chunk))
                + f'<nav class="navigation pagination"><div class="nav-links">{" ".join(links)}'
                "</div></nav>")
        return Page(self._document(origin, title, main, head, "archive").encode(),
                    modified=self.newest_of(articles))

    def _article(self, origin: str, article: ArticleSpec) -> str:
        url = origin + self.article_path(article)
        section: Section = article.section
        head = "\n".join([
            f'<link rel="canonical" href="{attr(url)}">',
            '<meta property="og:type" content="article">',
            f'<meta property="og:title" content="{attr(article.title)}">',
            f'<meta property="og:url" content="{attr(url)}">',
            f'<meta property="article:published_time" content="{article.published_iso}">',
            f'<meta property="article:modified_time" content="{article.modified_iso}">',
            *(f'<meta property="og:image" content="{attr(origin + image.src)}">'
              for image in article.images[:1]),
        ])
        placed = self.placed_images(article)
        content = [f"<p><strong>{text(article.lead)}</strong></p>"]
        for index, paragraph in enumerate(article.paragraphs):
            for image, _ in placed.get(index, []):
                content.append(
                    f'<figure class="wp-block-image size-large"><img src="{attr(image.src)}" '
                    f'alt="" class="wp-image-{article.id}"><figcaption>{text(image.caption_text)}'
                    "</figcaption></figure>")
            content.append(f"<p>{text(paragraph)}</p>")
        if article.byline_text:
            content.append(f'<p style="text-align: right;"><strong>{text(article.byline_text)}'
                           "</strong></p>")
        related = [a for a in (self.site.article_by_id(i) for i in article.layout.related_ids)
                   if a is not None][:3]
        content.append(
            '<div class="sharedaddy sd-sharing-enabled"><div class="robots-nocontent sd-block '
            'sd-social"><h3 class="sd-title">Chia sẻ:</h3><div class="sd-content"><ul>'
            f'<li><a class="share-facebook" href="{attr(url)}?share=facebook">Facebook</a></li>'
            f'<li><a class="share-twitter" href="{attr(url)}?share=twitter">Twitter</a></li>'
            '<li><a class="share-print" href="#print">In</a></li></ul></div></div></div>')
        content.append(
            '<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-'
            'headline"><em>Có liên quan</em></h3><div class="jp-relatedposts-items">'
            + "".join(
                f'<div class="jp-relatedposts-post"><h4 class="jp-relatedposts-post-title"><a href'
                f'="{attr(self.article_path(a))}">{text(a.title)}</a></h4><p class="jp-'
                f'relatedposts-post-date">{a.published:%d/%m/%Y}</p><p class="jp-relatedposts-'
                f'post-context">Trong &quot;{text(a.section.name)}&quot;</p></div>'
                for a in related)
            + "</div></div>")
        tags = ", ".join(f'<a href="{origin}/tag/{slugify(tag)}/" rel="tag">{text(tag)}</a>'
                         for tag in article.tags)
        older = [a for a in self.site.articles if a.published < article.published][:1]
        newer = [a for a in self.site.articles if a.published > article.published][-1:]
        navigation = "".join(
            f'<div class="nav-{kind}"><a href="{attr(self.article_path(a))}" rel="{kind}">'
            f'<span class="meta-nav">{label}</span> {text(a.title)}</a></div>'
            for kind, label, found in (("previous", "Bài trước", older), ("next", "Bài sau", newer))
            for a in found
        )
        comments = "".join(
            f'<li id="comment-{article.id}{n}" class="comment"><article class="comment-body"><footer '
            f'class="comment-meta"><div class="comment-author vcard"><b class="fn">{name}</b></div>'
            f'</footer><div class="comment-content"><p>{remark}</p></div><div class="reply"><a '
            f'rel="nofollow" class="comment-reply-link" href="{attr(url)}?replytocom='
            f'{article.id}{n}#respond">Trả lời</a></div></article></li>'
            for n, (name, remark) in enumerate((("Nguyễn Văn Bình", "Bài viết rất hữu ích."),
                                                 ("Trần Thị Hoa", "Cảm ơn tòa soạn.")), 1)
        )
        main = f"""<article id="post-{article.id}" class="post-{article.id} post type-post status-publish">
<header class="entry-header"><h1 class="entry-title">{text(article.title)}</h1>
<div class="entry-meta"><span class="posted-on">Đăng ngày <a href="{attr(url)}" rel="bookmark"><time class="entry-date published" datetime="{article.published_iso}">{article.published:%d/%m/%Y}</time><time class="updated" datetime="{article.modified_iso}">{article.modified:%d/%m/%Y}</time></a></span>
<span class="byline"> bởi <span class="author vcard"><a class="url fn n" href="{origin}/author/bbt/">BBT</a></span></span></div>
</header>
<div class="entry-content">
{chr(10).join(content)}
</div>
<footer class="entry-footer"><span class="cat-links">Chuyên mục: <a href="{origin}/chuyen-muc/{self.section_slug(section)}/" rel="category tag">{text(section.name)}</a></span>
{f'<span class="tags-links">Thẻ: {tags}</span>' if tags else ""}</footer>
</article>
<nav class="navigation post-navigation"><h2 class="screen-reader-text">Điều hướng bài viết</h2><div class="nav-links">{navigation}</div></nav>
<div id="comments" class="comments-area"><h2 class="comments-title">2 bình luận</h2><ol class="comment-list">{comments}</ol>
<div id="respond" class="comment-respond"><h3 id="reply-title" class="comment-reply-title">Để lại một bình luận</h3>
<form action="{origin}/wp-comments-post.php" method="post" id="commentform" class="comment-form">
<p class="comment-notes"><span id="email-notes">Email của bạn sẽ không được hiển thị công khai.</span> Các trường bắt buộc được đánh dấu <span class="required">*</span></p>
<p class="comment-form-comment"><label for="comment">Bình luận</label><textarea id="comment" name="comment"></textarea></p>
<p class="comment-form-author"><label for="author">Tên *</label><input id="author" name="author"></p>
<p class="comment-form-email"><label for="email">Email *</label><input id="email" name="email"></p>
<p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" value="Phản hồi"></p>
</form></div></div>"""
        return self._document(origin, article.title, main, head, "post-template-default single")
