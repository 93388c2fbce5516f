"""Renderers of the replica portal: `Site` content in, page text (or image bytes) out.

Every function is pure and takes the `origin` (scheme, host and port the client used, e.g.
`http://127.0.0.1:8765`) to build absolute links, so the same site can be served on any port.
The HTML follows the shape of baonamdinh.vn article and listing pages, including the noise a
crawler must see through: menus, share bars, ads, repeated captions, widget remains.
"""

from __future__ import annotations

import struct
from datetime import datetime, timezone
from email.utils import format_datetime
from html import escape
from urllib.parse import quote

from tests.replica.content import (
    ArticleSpec,
    ImageSpec,
    Section,
    Site,
    format_updated_line,
    slugify,
)

SITE_NAME = "Báo Nam Định điện tử"
LISTING_PAGE_SIZE = 15
HOME_ITEMS = 30
RSS_HOME_ITEMS = 50
RSS_SECTION_ITEMS = 30

WIDGET_REMAIN_MARKUP = {
    "p-comma": "<p>,</p>",
    "div-dot": "<div>.</div>",
    "p-nbsp-comma": "<p>&nbsp;,</p>",
}


def text(value: str) -> str:
    """Escape text for an HTML or XML element body."""
    return escape(value, quote=False)


def attr(value: str) -> str:
    """Escape text for a double-quoted HTML or XML attribute."""
    return escape(value, quote=True)


def http_date(moment: datetime) -> str:
    """Format an aware datetime as an HTTP-date (`Wed, 12 Feb 2020 12:29:00 GMT`)."""
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)


def section_page_count(site: Site, section: Section) -> int:
    """Number of listing pages of a section (at least 1, even when it is empty)."""
    count = len(site.articles_in_section(section))
    return max(1, -(-count // LISTING_PAGE_SIZE))


def render_article(site: Site, article: ArticleSpec, origin: str) -> str:
    """Render an article page in the layout of baonamdinh.vn."""
    layout = article.layout
    head = [
        '<meta charset="utf-8">' if layout.meta_charset else "",
        f"<title>{text(article.title)} - {SITE_NAME}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="description" content="{attr(article.lead)}">',
        f'<meta property="og:title" content="{attr(article.title)}">',
        '<meta property="og:type" content="article">',
    ]
    if article.images:
        head.append(f'<meta property="og:image" content="{attr(origin + article.images[0].src)}">')
    head.append(f'<link rel="canonical" href="{attr(article.url(origin))}">')
    sapo = (
        f"<strong>{text(article.lead)}</strong>"
        if layout.sapo_strong
        else f"<p>{text(article.lead)}</p>"
    )
    detail = "\n".join(
        [
            '<div class="detail">',
            f'<h1 class="detail-title">{text(article.title)}</h1>',
            f'<div class="detail-time">{text(format_updated_line(article.published))}</div>',
            _share_bar(article, origin, "share-bar"),
            f'<div class="detail-sapo">{sapo}</div>',
            '<div class="detail-content" id="contentdetail">',
            _article_body(article),
            "</div>",
            _tags(article),
            _share_bar(article, origin, "share-bar share-bottom"),
            _related(site, article, origin),
            "</div>",
        ]
    )
    breadcrumb = (
        '<div class="breadcrumb"><a href="/">Trang chủ</a> '
        f'<a class="cate" href="{article.section.path}">{text(article.section.name)}</a></div>'
    )
    return _document(site, origin, head, breadcrumb + "\n" + detail)


def render_home(site: Site, origin: str) -> str:
    """Render the home page: the newest articles."""
    head = _plain_head(f"{SITE_NAME} - Tin tức Nam Định", origin + "/")
    main = _list_news(site.articles[:HOME_ITEMS], origin)
    return _document(site, origin, head, '<h2 class="cate-title">Tin mới</h2>\n' + main)


def render_section_page(site: Site, section: Section, page: int, origin: str) -> str:
    """Render listing page `page` (1-based) of a section, newest first."""
    articles = site.articles_in_section(section)
    start = (page - 1) * LISTING_PAGE_SIZE
    items = articles[start : start + LISTING_PAGE_SIZE]
    title = section.name if page == 1 else f"{section.name} - Trang {page}"
    head = _plain_head(f"{title} - {SITE_NAME}", origin + section.page_path(page))
    main = "\n".join(
        [
            '<div class="breadcrumb"><a href="/">Trang chủ</a> '
            f'<a class="cate" href="{section.path}">{text(section.name)}</a></div>',
            f'<h1 class="cate-title">{text(section.name)}</h1>',
            _list_news(items, origin),
            _paging(section, page, section_page_count(site, section), origin),
        ]
    )
    return _document(site, origin, head, main)


def render_tag_page(site: Site, tag_slug: str, origin: str) -> str:
    """Render the listing of one tag's articles (no paging)."""
    name = site.tags()[tag_slug]
    head = _plain_head(f"{name} - {SITE_NAME}", f"{origin}/tag/{tag_slug}/")
    main = f'<h1 class="cate-title">Từ khóa: {text(name)}</h1>\n' + _list_news(
        site.articles_with_tag(tag_slug), origin
    )
    return _document(site, origin, head, main)


def render_message_page(site: Site, origin: str, title: str, message: str) -> str:
    """Render a page with the portal frame and one message (404, search form)."""
    head = ['<meta charset="utf-8">', f"<title>{text(title)} - {SITE_NAME}</title>"]
    main = f'<h1 class="cate-title">{text(title)}</h1>\n<p class="message">{text(message)}</p>'
    return _document(site, origin, head, main)


def render_robots(origin: str) -> str:
    """Render robots.txt: the search and admin areas are off limits, the sitemap is named."""
    return (
        "User-agent: *\n"
        "Disallow: /tim-kiem/\n"
        "Disallow: /admin/\n"
        "\n"
        f"Sitemap: {origin}/sitemap.xml\n"
    )


def render_sitemap_index(site: Site, origin: str) -> str:
    """Render the sitemap index: one sitemap per publication month, newest first."""
    entries = []
    for month in site.months():
        newest = max(a.modified for a in site.articles_in_month(month))
        entries.append(
            f"<sitemap><loc>{text(origin)}/sitemaps/sitemap-{month}.xml</loc>"
            f"<lastmod>{newest.isoformat()}</lastmod></sitemap>"
        )
    return _xml(
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
        entries,
        "</sitemapindex>",
    )


def render_month_sitemap(site: Site, month: str, origin: str) -> str:
    """Render the urlset of every article published in `month` (`YYYY-MM`)."""
    entries = [
        f"<url><loc>{text(article.url(origin))}</loc>"
        f"<lastmod>{article.modified_iso}</lastmod></url>"
        for article in site.articles_in_month(month)
    ]
    opening = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    return _xml(opening, entries, "</urlset>")


def render_rss(site: Site, origin: str, section: Section | None = None) -> str:
    """Render the RSS 2.0 feed of the whole site, or of one section."""
    if section is None:
        articles = site.articles[:RSS_HOME_ITEMS]
        title, link, self_path = SITE_NAME, f"{origin}/", "/rss/home.rss"
    else:
        articles = site.articles_in_section(section)[:RSS_SECTION_ITEMS]
        title = f"{SITE_NAME} - {section.name}"
        link, self_path = origin + section.path, section.rss_path
    newest = max((a.modified for a in articles), default=site.articles[0].modified)
    items = [
        "<item>"
        f"<title>{text(article.title)}</title>"
        f"<link>{text(article.url(origin))}</link>"
        f"<description>{text(article.lead)}</description>"
        f"<category>{text(article.section.name)}</category>"
        f"<pubDate>{format_datetime(article.published)}</pubDate>"
        f'<guid isPermaLink="true">{text(article.url(origin))}</guid>'
        "</item>"
        for article in articles
    ]
    channel = [
        f"<title>{text(title)}</title>",
        f"<link>{text(link)}</link>",
        f"<description>Tin tức mới nhất của {text(title)}</description>",
        "<language>vi</language>",
        f"<lastBuildDate>{format_datetime(newest)}</lastBuildDate>",
        f'<atom:link href="{attr(origin + self_path)}" rel="self" type="application/rss+xml"/>',
        *items,
    ]
    return _xml(
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>',
        channel,
        "</channel>\n</rss>",
    )


def render_jpeg(label: str) -> bytes:
    """Return a valid 8x8 grey baseline JPEG whose comment segment holds `label`.

    The comment makes every image's bytes (and digest) distinct while the picture stays the
    same. The scan is one block whose DC difference and AC coefficients are all zero, so the
    Huffman tables need a single one-bit code each: DC category 0, AC end-of-block.
    """

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, for symbol 0x00
    return b"".join(
        [
            b"\xff\xd8",  # SOI
            segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            segment(0xFE, label.encode("utf-8")[:60000]),
            segment(0xDB, b"\x00" + bytes([1] * 64)),  # 8-bit quantisation table 0
            segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00"),  # 8x8, one component
            segment(0xC4, b"\x00" + one_code),  # DC table 0
            segment(0xC4, b"\x10" + one_code),  # AC table 0
            segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),  # scan of component 1, tables 0/0
            b"\x3f",  # bits 0 (DC diff 0) and 0 (EOB), padded with ones
            b"\xff\xd9",  # EOI
        ]
    )


def _document(site: Site, origin: str, head: list[str], main: str) -> str:
    """Wrap the main column in the portal frame: header, menu, ads, sidebar, footer."""
    head_html = "\n".join(line for line in head if line)
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
{head_html}
<link rel="alternate" type="application/rss+xml" title="{SITE_NAME}" href="{origin}/rss/home.rss">
</head>
<body>
<div id="header">
<a class="logo" href="{origin}/">{SITE_NAME}</a>
{_menu(site, origin)}
<a class="search-link" href="/tim-kiem/">Tìm kiếm</a>
</div>
<div class="ads ads-top">QUẢNG CÁO</div>
<div id="main">
{main}
{_sidebar(site, origin)}
</div>
<div id="footer">
<p>{SITE_NAME}</p>
<p>Cơ quan của Đảng bộ Đảng Cộng sản Việt Nam tỉnh Nam Định - Tiếng nói của Đảng bộ, chính quyền và
nhân dân tỉnh Nam Định</p>
<p>Ghi rõ nguồn "{SITE_NAME}" khi phát hành lại thông tin từ website này.</p>
</div>
</body>
</html>
"""


def _plain_head(title: str, canonical: str) -> list[str]:
    return [
        '<meta charset="utf-8">',
        f"<title>{text(title)}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<link rel="canonical" href="{attr(canonical)}">',
    ]


def _menu(site: Site, origin: str) -> str:
    links = [f'<li><a href="{origin}/">Trang chủ</a></li>']
    links += [
        f'<li><a href="{origin}{section.path}">{text(section.name)}</a></li>'
        for section in site.sections
    ]
    return '<ul class="main-menu">' + "".join(links) + "</ul>"


def _sidebar(site: Site, origin: str) -> str:
    most_read = [site.article_by_id(article_id) for article_id in site.most_read_ids]
    links = "".join(
        f'<li><a href="{attr(article.url(origin))}">{text(article.title)}</a></li>'
        for article in most_read
        if article is not None
    )
    return (
        '<div class="sidebar">'
        f'<div class="most-read"><h3>Đọc nhiều</h3><ul>{links}</ul></div>'
        '<div class="ads ads-right">QUẢNG CÁO</div>'
        "</div>"
    )


def _share_bar(article: ArticleSpec, origin: str, css_class: str) -> str:
    # Share buttons are script or mailto links, so none of them leads to a crawlable page.
    subject = attr(quote(article.title))
    return (
        f'<div class="{css_class}"><a>Chia sẻ</a> '
        '<a class="share-facebook" href="javascript:void(0);">Facebook</a> '
        '<a class="share-zalo" href="javascript:void(0);">Zalo</a> '
        '<a class="print" href="javascript:window.print();">In bài</a> '
        f'<a class="email" href="mailto:?subject={subject}">Gửi email</a></div>'
    )


def _article_body(article: ArticleSpec) -> str:
    """Render the content container: images, paragraphs, ad, byline, widget remains."""
    layout = article.layout
    placed = list(
        zip(article.images, layout.image_positions, layout.repeated_captions, strict=True)
    )
    parts: list[str] = []
    last = len(article.paragraphs) - 1
    for index, paragraph in enumerate(article.paragraphs):
        for image, position, repeated in placed:
            if position == index:
                parts.append(_image(image, repeated))
        ending = "&nbsp;" if layout.trailing_nbsp and index == last else ""
        parts.append(f"<p>{text(paragraph)}{ending}</p>")
        if layout.inline_ad_after == index:
            parts.append('<div class="ads ads-inline">QUẢNG CÁO</div>')
    if article.byline_text:
        byline = text(article.byline_text)
        if layout.byline_plain:
            parts.append(f"<p>{byline}</p>")
        else:
            parts.append(f'<p style="text-align: right;"><strong>{byline}</strong></p>')
    parts += [WIDGET_REMAIN_MARKUP[kind] for kind in layout.widget_remains]
    return "\n".join(parts)


def _image(image: ImageSpec, repeated_caption: bool) -> str:
    caption = text(image.caption_text)
    table = (
        '<table class="image"><tr><td>'
        f'<img src="{attr(image.src)}" alt=""></td></tr>'
        f'<tr><td class="image-caption">{caption}</td></tr></table>'
    )
    # As on the seed page, most captions are printed once more as a body paragraph.
    return f"{table}\n<p>{caption}</p>" if repeated_caption else table


def _tags(article: ArticleSpec) -> str:
    if not article.tags:
        # An empty tag widget still prints its separator, one of the seed's lone "," lines.
        return '<div class="detail-tags">,</div>'
    links = ", ".join(f'<a href="/tag/{slugify(tag)}/">{text(tag)}</a>' for tag in article.tags)
    return f'<div class="detail-tags"><span>Từ khóa:</span> {links}</div>'


def _related(site: Site, article: ArticleSpec, origin: str) -> str:
    items = []
    for related_id in article.layout.related_ids:
        related = site.article_by_id(related_id)
        if related is not None:
            items.append(
                f'<li><a href="{attr(related.url(origin))}">{text(related.title)}</a> '
                f"<span>({related.published:%d/%m/%Y})</span></li>"
            )
    return '<div class="related-news"><h3>Tin liên quan</h3><ul>' + "".join(items) + "</ul></div>"


def _list_news(articles: list[ArticleSpec], origin: str) -> str:
    items = []
    for article in articles:
        url = attr(article.url(origin))
        thumb = ""
        if article.images:
            thumb = (
                f'<a class="thumb" href="{url}">'
                f'<img src="{attr(origin + article.images[0].src)}" alt=""></a>'
            )
        items.append(
            f'<div class="item">{thumb}<a class="title" href="{url}">{text(article.title)}</a>'
            f'<span class="time">{article.published:%d/%m/%Y %H:%M}</span>'
            f'<p class="sapo">{text(article.lead)}</p></div>'
        )
    return '<div class="list-news">\n' + "\n".join(items) + "\n</div>"


def _paging(section: Section, page: int, pages: int, origin: str) -> str:
    def href(number: int) -> str:
        return attr(origin + section.page_path(number))

    links = []
    if page > 1:
        links.append(f'<a class="prev" href="{href(page - 1)}">Trang trước</a>')
    for number in range(1, pages + 1):
        active = ' class="active"' if number == page else ""
        links.append(f'<a{active} href="{href(number)}">{number}</a>')
    if page < pages:
        links.append(f'<a class="next" href="{href(page + 1)}">Trang sau</a>')
    return '<div class="paging">' + " ".join(links) + "</div>"


def _xml(opening: str, lines: list[str], closing: str) -> str:
    body = "\n".join(lines)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{opening}\n{body}\n{closing}\n'
