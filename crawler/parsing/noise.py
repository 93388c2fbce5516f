"""Provincial-portal noise, as data: what the generic path cuts from a body, and how it knows.

Read by `generic` (trailer boxes, layout tables, link lists, author elements, site names around
the headline) and `text` (comment-form labels). Each list says what it matches; the rules that
apply them live with their callers. No settings.
"""

from __future__ import annotations

# Headings of the boxes portals put after an article: other articles ("Các tin khác", "Tin liên
# quan", "Đọc nhiều"), reader comments and their forms, polls. A body is cut at the first one
# found in its second half (an inline "Xem thêm" in the middle of an article is only dropped).
TRAILER_HEADINGS = frozenset({
    "các tin khác", "tin khác", "tin liên quan", "bài liên quan", "tin bài liên quan",
    "bài viết liên quan", "tin cùng chuyên mục", "bài cùng chuyên mục", "đọc nhiều",
    "đọc nhiều nhất", "tin đọc nhiều", "xem nhiều", "tin xem nhiều", "tin mới", "tin mới nhất",
    "tin mới hơn", "tin cũ hơn", "tin đã đưa", "các tin đã đưa", "có thể bạn quan tâm",
    "ý kiến bạn đọc", "bình luận", "gửi bình luận", "ý kiến của bạn", "viết bình luận",
    "thăm dò ý kiến", "bình chọn", "thăm dò", "liên kết website",
    # Other languages' trailers, for pages of any origin.
    "related articles", "related posts", "related stories", "read more", "more stories",
    "you may also like", "recommended", "comments", "leave a comment", "leave a reply",
    "ähnliche beiträge", "ähnliche artikel", "weitere artikel", "weiterführender link",
    "weiterführende links", "das könnte sie auch interessieren",
    "kommentare", "articles similaires", "à lire aussi", "lire aussi", "commentaires",
    "leia também", "veja também", "artículos relacionados", "comentarios", "articoli correlati",
})

# Starts of the labels of a reader-comment form, which pages also repeat as text.
COMMENT_FORM_PREFIXES = (
    "email (không hiển thị", "email của bạn", "vui lòng nhập mã", "nhập mã xác nhận",
    "mã xác nhận", "mã bảo mật", "họ và tên", "họ tên", "gửi bình luận", "gửi ý kiến",
    "bình luận của bạn", "ý kiến của bạn", "viết bình luận", "bạn đọc gửi ý kiến",
    "xem kết quả", "bình chọn", "your email address will not be published",
    "deine e-mail-adresse wird nicht veröffentlicht",
    "ihre e-mail-adresse wird nicht veröffentlicht",
    "votre adresse e-mail ne sera pas publiée",
)

# Elements that name the author next to the date, on pages without a byline line.
AUTHOR_ELEMENTS = (
    "[itemprop=author] [itemprop=name]", "[itemprop=author]", "[rel=author]", ".tacgia",
    ".tac-gia", "[class*=tacgia]", "[class*=tac-gia]", "[class*=author-name]", ".author",
    "[class*=author]", ".byline",
)

# An author element holding more than this is a box about the author, not a name.
MAX_AUTHOR_ELEMENT_CHARS = 80

# What separates a site's name from the headline in ``<title>`` / ``og:title``.
TITLE_SEPARATORS = (" - ", " – ", " — ", " | ", " :: ", " » ", " · ", ": ")
