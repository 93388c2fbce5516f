"""An old table-based ASP/PHP portal, as many provincial papers still ran in the 2010s.

Modelled on classic-ASP news CMSs of Vietnamese provincial portals: nested ``<table>`` layout,
``news.asp?CatID=`` sections paged by ``&Page=N``, ``newsdetail.asp?NewsID=&CatID=`` articles,
pages in windows-1258 (tone marks as combining characters) declared only in a ``<meta
http-equiv>``, some articles sent as UTF-8 under a server default ``iso-8859-1`` label. No
sitemap and no feed: a crawler finds articles through the menu, the listings and the "Các tin
khác" box of every article.

Noise and traps: the title only in ``<title>`` after the paper's name and in a ``span``; the
date line beside "Số lượt xem"; captions printed twice (table cell and paragraph); stray ``.``
and ``&nbsp;`` paragraphs; the byline as a right-aligned bold last paragraph; "Trở về / In trang /
Gửi email" tools; a poll box with its result page; an endless calendar (``calendar.asp?month=``,
``news.asp?date=``); ``PHPSESSID`` in the links of "Các tin khác"; a search form; "about" and
"contact" pages; links to other sites.
"""

# ruff: noqa: E501  (HTML templates keep a page's lines whole)
from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime

from tests.replica.content import WEEKDAYS, ArticleSpec, Section
from tests.replica.faults import encode_cp1258
from tests.replica.layouts.common import TEXT, Layout, Page, attr, text, token

SITE_NAME = "BÁO NAM HÀ ĐIỆN TỬ"
PAGE_SIZE = 15
HOME_ITEMS = 20
OTHER_NEWS = 8
OTHER_SITES = ("http://www.chinhphu.vn/", "http://www.nhandan.org.vn/", "http://www.vietnamplus.vn/")


class LegacyAspLayout(Layout):
    """``legacy-asp``: see the module docstring."""

    name = "legacy-asp"
    summary = "old table-based ASP portal: ?NewsID= URLs, windows-1258, no sitemap"
    routes_query = True

    def article_path(self, article: ArticleSpec) -> str:
        return f"/newsdetail.asp?NewsID={article.id}&CatID={article.section.id}"

    def not_article_paths(self) -> list[str]:
        paths = ["/", "/about.asp", "/contact.asp", "/poll.asp?PollID=3&view=result",
                 "/calendar.asp?month=2020-02", "/news.asp?date=2020-02-12"]
        paths += [self.section_path(section) for section in self.site.sections]
        return paths

    def section_path(self, section: Section, page: int = 1) -> str:
        """A section listing; page 1 has no ``Page`` parameter."""
        path = f"/news.asp?CatID={section.id}"
        return path if page == 1 else f"{path}&Page={page}"

    def route(self, origin: str, path: str, query: dict[str, list[str]]) -> Page | None:
        def arg(name: str) -> str:
            return (query.get(name) or [""])[0]

        if path in ("/", "/default.asp"):
            return self._page(self._home(origin), self.newest)
        if path == "/robots.txt":
            return Page(b"User-agent: *\nDisallow: /admin/\n", TEXT, self.newest)
        if path == "/newsdetail.asp":
            article = self.by_path.get(f"/newsdetail.asp?NewsID={arg('NewsID')}&CatID={arg('CatID')}")
            return self._article(origin, article) if article else None
        if path == "/news.asp":
            if arg("date"):
                return self._day(origin, arg("date"))
            section = self.site.section_by_id(int(arg("CatID"))) if arg("CatID").isdigit() else None
            page = int(arg("Page")) if arg("Page").isdigit() else 1
            articles = self.site.articles_in_section(section) if section else []
            if section is None or page < 1 or (page - 1) * PAGE_SIZE >= max(len(articles), 1):
                return None
            return self._page(self._listing(origin, section, page, articles), self.newest_of(articles))
        if path == "/calendar.asp":
            return self._calendar_page(origin, arg("month"))
        if path == "/poll.asp":
            return self._page(self._frame(origin, "Kết quả thăm dò", (
                "<b>Kết quả thăm dò ý kiến</b><br>Tốt: 62%<br>Bình thường: 30%<br>Chưa tốt: 8%")),
                self.newest)
        if path == "/about.asp":
            return self._page(self._frame(origin, "Giới thiệu", (
                f"<b>Giới thiệu {text(SITE_NAME)}</b><p>Cơ quan của Đảng bộ tỉnh, tiếng nói của "
                "Đảng bộ, chính quyền và nhân dân tỉnh. Báo in phát hành các ngày thứ Hai, Tư, "
                "Sáu hằng tuần; báo điện tử cập nhật thông tin hằng ngày về mọi mặt đời sống chính"
                " trị, kinh tế, văn hóa, xã hội của tỉnh.</p>")), self.newest)
        if path == "/contact.asp":
            return self._page(self._frame(origin, "Liên hệ", (
                "<b>Liên hệ</b><br>Địa chỉ: 68 đường Trần Hưng Đạo<br>Điện thoại: 0228 3849 000"
                "<br>Email: toasoan@example.invalid")), self.newest)
        return None

    # --- pages ----------------------------------------------------------------------------------

    def _page(self, html: str, modified: datetime, utf8: bool = False) -> Page:
        if utf8:
            # The server's default label on a page that is really UTF-8.
            return Page(html.encode("utf-8"), "text/html; charset=iso-8859-1", modified)
        return Page(encode_cp1258(html), "text/html", modified)

    def _frame(self, origin: str, title: str, center: str, *, charset: str = "windows-1258",
               month: str | None = None) -> str:
        today = self.newest.date()
        menu = "".join(
            f'<tr><td class="menuitem"><a href="news.asp?CatID={s.id}">{text(s.name)}</a></td></tr>'
            for s in self.site.sections
        )
        links = "".join(f'<option value="{url}">{url}</option>' for url in OTHER_SITES)
        return f"""<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{text(SITE_NAME)} - {text(title)}</title>
<link href="style.css" rel="stylesheet" type="text/css">
</head>
<body topmargin="0" leftmargin="0">
<table width="980" align="center" cellpadding="0" cellspacing="0" border="0">
<tr><td colspan="3" class="banner"><a href="default.asp"><b>{text(SITE_NAME)}</b></a></td></tr>
<tr><td colspan="3" class="topmenu"><a href="default.asp">Trang chủ</a> |
{" | ".join(f'<a href="news.asp?CatID={s.id}">{text(s.name)}</a>' for s in self.site.sections)}
| <a href="about.asp">Giới thiệu</a> | <a href="contact.asp">Liên hệ</a></td></tr>
<tr><td colspan="3" class="today">{WEEKDAYS[today.weekday()]}, {today:%d/%m/%Y}</td></tr>
<tr>
<td width="180" valign="top" class="left">
<table width="100%" class="menu">{menu}</table>
{self._calendar(month or f"{today:%Y-%m}")}
<form action="search.asp" method="get"><input type="text" name="keyword"><input type="submit" value="Tìm"></form>
</td>
<td width="600" valign="top" class="center">
{center}
</td>
<td width="200" valign="top" class="right">
<form action="poll.asp" method="post"><table class="poll"><tr><td><b>Thăm dò ý kiến</b></td></tr>
<tr><td>Bạn đánh giá thế nào về nội dung báo điện tử?</td></tr>
<tr><td><input type="radio" name="opt" value="1"> Tốt<br><input type="radio" name="opt" value="2"> Bình thường<br>
<input type="radio" name="opt" value="3"> Chưa tốt</td></tr>
<tr><td><input type="submit" value="Biểu quyết"> <a href="poll.asp?PollID=3&amp;view=result">Xem kết quả</a></td></tr>
</table></form>
<b>Liên kết website</b><br><select onchange="window.open(this.value)">{links}</select>
<br>{" ".join(f'<a href="{url}">{url}</a>' for url in OTHER_SITES)}
</td>
</tr>
<tr><td colspan="3" class="footer">{text(SITE_NAME)} - Giấy phép số 123/GP-BTTTT.
Ghi rõ nguồn khi phát hành lại thông tin từ website này.</td></tr>
</table>
</body>
</html>
"""

    def _calendar(self, month: str) -> str:
        year, number = (int(part) for part in month.split("-"))
        before = date(year - (number == 1), (number - 2) % 12 + 1, 1)
        after = date(year + (number == 12), number % 12 + 1, 1)
        days = " ".join(
            f'<a href="news.asp?date={year:04d}-{number:02d}-{day:02d}">{day}</a>'
            for day in range(1, monthrange(year, number)[1] + 1)
        )
        return (
            '<table class="calendar"><tr><td>'
            f'<a href="calendar.asp?month={before:%Y-%m}">&laquo;</a> Tháng {number}/{year} '
            f'<a href="calendar.asp?month={after:%Y-%m}">&raquo;</a></td></tr>'
            f"<tr><td>{days}</td></tr></table>"
        )

    def _calendar_page(self, origin: str, month: str) -> Page | None:
        try:
            year, number = (int(part) for part in month.split("-"))
            date(year, number, 1)
        except ValueError:
            return None
        if not 1900 <= year <= 2100:
            return None
        center = f"<b>Lịch tin tháng {number}/{year}</b>"
        return self._page(self._frame(origin, f"Lịch tin {month}", center, month=month),
                          self.newest)

    def _day(self, origin: str, day: str) -> Page | None:
        try:
            wanted = date.fromisoformat(day)
        except ValueError:
            return None
        articles = [a for a in self.site.articles if a.published.date() == wanted]
        center = f"<b>Tin ngày {wanted:%d/%m/%Y}</b>" + self._items(articles)
        return self._page(self._frame(origin, f"Tin ngày {day}", center, month=f"{wanted:%Y-%m}"),
                          self.newest_of(articles))

    def _items(self, articles: list[ArticleSpec]) -> str:
        rows = []
        for article in articles:
            href = attr(self.article_path(article).lstrip("/"))
            thumb = (f'<a href="{href}"><img src="{attr(article.images[0].src)}" width="100" '
                     'border="0"></a>' if article.images else "")
            rows.append(
                f'<tr><td valign="top" width="110">{thumb}</td><td valign="top">'
                f'<a class="newstitle" href="{href}">{text(article.title)}</a> '
                f'<span class="date">({article.published:%d/%m/%Y %H:%M})</span><br>'
                f"{text(article.lead)}</td></tr>"
            )
        return '<table class="newslist" width="100%">' + "".join(rows) + "</table>"

    def _home(self, origin: str) -> str:
        center = "<b>TIN MỚI CẬP NHẬT</b>" + self._items(self.site.articles[:HOME_ITEMS])
        return self._frame(origin, "Trang chủ", center)

    def _listing(self, origin: str, section: Section, page: int,
                 articles: list[ArticleSpec]) -> str:
        pages = max(1, -(-len(articles) // PAGE_SIZE))
        items = self._items(articles[(page - 1) * PAGE_SIZE: page * PAGE_SIZE])
        numbers = " ".join(
            f"<b>{n}</b>" if n == page else f'<a href="{attr(self.section_path(section, n)[1:])}">{n}</a>'
            for n in range(1, pages + 1)
        )
        if page < pages:
            numbers += f' <a href="{attr(self.section_path(section, page + 1)[1:])}">Tiếp &raquo;</a>'
        center = (f'<div class="path"><a href="default.asp">Trang chủ</a> &raquo; '
                  f"{text(section.name)}</div>{items}"
                  f'<div class="paging">Trang: {numbers}</div>')
        return self._frame(origin, section.name, center)

    def _article(self, origin: str, article: ArticleSpec) -> Page:
        layout = article.layout
        placed = self.placed_images(article)
        parts = [f'<div class="sapo"><b>{text(article.lead)}</b></div>', '<div class="noidung">']
        for index, paragraph in enumerate(article.paragraphs):
            for image, repeated in placed.get(index, []):
                parts.append(
                    '<table align="center" class="image" width="450"><tr><td>'
                    f'<img src="{attr(image.src)}" width="450" border="0"></td></tr>'
                    f'<tr><td class="caption" align="center"><i>{text(image.caption_text)}</i>'
                    "</td></tr></table>"
                )
                if repeated:
                    parts.append(f'<p align="center"><i>{text(image.caption_text)}</i></p>')
            parts.append(f'<p align="justify">{text(paragraph)}</p>')
            if layout.inline_ad_after == index:
                parts.append("<p>&nbsp;</p>")
        if article.byline_text:
            parts.append(f'<p align="right"><b>{text(article.byline_text)}</b></p>')
        parts += ["<p>.</p>" if kind == "div-dot" else "<p>&nbsp;</p>"
                  for kind in layout.widget_remains[:2]]
        parts.append("</div>")
        when = article.published
        others = [a for a in self.site.articles_in_section(article.section)
                  if a.published < article.published][:OTHER_NEWS]
        other_items = "".join(
            f'<li><a href="{attr(self.article_path(other)[1:])}&amp;PHPSESSID='
            f'{token(article.id, other.id)}">{text(other.title)}</a> '
            f"<span>({other.published:%d/%m/%Y})</span></li>"
            for other in others
        )
        center = "\n".join([
            f'<div class="path"><a href="default.asp">Trang chủ</a> &raquo; '
            f'<a href="news.asp?CatID={article.section.id}">{text(article.section.name)}</a></div>',
            '<table width="100%" class="detail"><tr><td>',
            f'<span class="tieude">{text(article.title)}</span><br>',
            f'<span class="date">{WEEKDAYS[when.weekday()]}, {when:%d/%m/%Y} - {when:%H:%M}</span>'
            f' &nbsp; <span class="views">Số lượt xem: {article.id % 997 + 40}</span>',
            *parts,
            '<div class="tools">[<a href="javascript:history.back()">Trở về</a>] '
            '[<a href="javascript:window.print()">In trang</a>] '
            '[<a href="mailto:?subject=tin">Gửi email</a>] '
            '[<a href="#top">Đầu trang</a>]</div>',
            "</td></tr></table>",
            f'<div class="othernews"><b>Các tin khác:</b><ul>{other_items}</ul></div>',
        ])
        utf8 = article.id % 4 == 0
        html = self._frame(origin, article.title, center,
                           charset="iso-8859-1" if utf8 else "windows-1258")
        return self._page(html, article.modified, utf8=utf8)
