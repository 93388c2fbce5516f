"""Deterministic content of the replica portal, and the ground truth tests compare crawls against.

`build_site(seed, articles)` is pure: the same arguments always give equal `Site` objects, because
every random choice comes from one `random.Random(seed)` consumed in a fixed order and nothing reads
the clock. One article, the seed article, is built from
`tests/data/seed/seed-article-as-extracted.txt` (a naive extraction of a real baonamdinh.vn page),
so the replica serves the page that motivated the project; the others are generated from the phrase
vocabularies below.

The `ArticleSpec` fields are what a perfect extractor returns for each page; `PageLayout` holds
the rendering quirks (missing charset, repeated captions, widget remains, …) that `pages.py` prints
and a crawler has to see through.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

VIETNAM_TZ = timezone(timedelta(hours=7))
SEED_ARTICLE_ID = 2536418
SEED_SECTION_ID = 5085
SEED_TEXT_PATH = (
    Path(__file__).resolve().parent.parent / "data" / "seed" / "seed-article-as-extracted.txt"
)

FIRST_DAY = date(2019, 8, 1)
LAST_DAY = date(2020, 3, 31)

# Widget remains printed after the byline; `pages.py` maps each kind to its markup.
WIDGET_REMAIN_KINDS = ("p-comma", "div-dot", "p-nbsp-comma")

SECTIONS: tuple[tuple[int, str], ...] = (
    (5085, "Chính trị"),
    (5086, "Kinh tế"),
    (5087, "Xã hội"),
    (5088, "Văn hóa - Thể thao"),
    (5089, "Pháp luật"),
    (5090, "Nông thôn mới"),
    (5091, "Quốc phòng - An ninh"),
)

TOPICS: dict[int, tuple[str, ...]] = {
    5085: (
        "công tác xây dựng Đảng", "công tác chuẩn bị Đại hội Đảng bộ các cấp",
        "việc học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh", "công tác dân vận",
        "phong trào thi đua yêu nước", "công tác kiểm tra, giám sát", "cải cách hành chính",
        "công tác tiếp công dân", "việc thực hiện quy chế dân chủ ở cơ sở", "công tác cán bộ",
    ),
    5086: (
        "thu ngân sách nhà nước", "thu hút đầu tư", "phát triển công nghiệp - tiểu thủ công nghiệp",
        "xuất khẩu hàng dệt may", "phát triển kinh tế tập thể", "bình ổn thị trường dịp Tết",
        "phát triển làng nghề", "hỗ trợ doanh nghiệp nhỏ và vừa", "giải ngân vốn đầu tư công",
        "phát triển thương mại điện tử",
    ),
    5087: (
        "giảm nghèo bền vững", "bảo hiểm y tế toàn dân", "chăm sóc người có công",
        "đào tạo nghề cho lao động nông thôn", "phòng, chống dịch bệnh",
        "chăm sóc sức khỏe nhân dân", "nâng cao chất lượng giáo dục", "bảo vệ, chăm sóc trẻ em",
        "giải quyết việc làm", "phòng, chống thiên tai",
    ),
    5088: (
        "xây dựng đời sống văn hóa ở khu dân cư", "bảo tồn di tích lịch sử", "phát triển du lịch",
        "phong trào thể dục thể thao quần chúng", "tổ chức lễ hội truyền thống",
        "phát triển văn hóa đọc", "bảo tồn nghệ thuật hát chèo", "đào tạo vận động viên năng khiếu",
        "xây dựng gia đình văn hóa", "quảng bá hình ảnh quê hương",
    ),
    5089: (
        "phòng, chống tội phạm ma túy", "bảo đảm trật tự an toàn giao thông",
        "phổ biến, giáo dục pháp luật", "phòng cháy, chữa cháy",
        "đấu tranh chống buôn lậu, gian lận thương mại", "phòng, chống tội phạm trộm cắp tài sản",
        "giải quyết khiếu nại, tố cáo", "trợ giúp pháp lý", "quản lý vũ khí, vật liệu nổ",
        "phòng, chống tham nhũng",
    ),
    5090: (
        "xây dựng nông thôn mới nâng cao", "xây dựng nông thôn mới kiểu mẫu", "dồn điền đổi thửa",
        "chuyển đổi cơ cấu cây trồng", "sản xuất vụ Đông", "sản xuất lúa vụ Xuân",
        "cấp nước sạch nông thôn", "bảo vệ môi trường nông thôn", "phát triển sản phẩm OCOP",
        "cơ giới hóa nông nghiệp",
    ),
    5091: (
        "công tác tuyển quân", "diễn tập khu vực phòng thủ", "xây dựng lực lượng dân quân tự vệ",
        "giáo dục quốc phòng và an ninh", "phong trào toàn dân bảo vệ an ninh Tổ quốc",
        "huấn luyện lực lượng dự bị động viên", "chính sách hậu phương quân đội",
        "tuyên truyền bảo vệ chủ quyền biển, đảo", "công tác tìm kiếm cứu nạn",
        "xây dựng thế trận lòng dân",
    ),
}

ACTORS = (
    "UBND tỉnh", "Tỉnh ủy", "HĐND tỉnh", "Ủy ban MTTQ tỉnh",
    "Sở Nông nghiệp và Phát triển nông thôn", "Sở Y tế", "Sở Giáo dục và Đào tạo", "Sở Công Thương",
    "Sở Tài nguyên và Môi trường", "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Lao động - Thương binh và Xã hội", "Công an tỉnh", "Bộ Chỉ huy Quân sự tỉnh",
    "Hội Nông dân tỉnh", "Tỉnh đoàn", "Hội Liên hiệp Phụ nữ tỉnh", "Liên đoàn Lao động tỉnh",
    "Hội Cựu chiến binh tỉnh", "Cục Thuế tỉnh", "Bảo hiểm xã hội tỉnh",
    "Ngân hàng Chính sách xã hội tỉnh", "Ban Tuyên giáo Tỉnh ủy", "huyện Hải Hậu",
    "huyện Giao Thủy", "huyện Xuân Trường", "huyện Nghĩa Hưng", "huyện Ý Yên", "huyện Vụ Bản",
    "huyện Mỹ Lộc", "huyện Nam Trực", "huyện Trực Ninh", "thành phố Nam Định",
)

COMMUNES = (
    ("Hải Minh", "Hải Hậu"), ("Hải Anh", "Hải Hậu"), ("Giao Thiện", "Giao Thủy"),
    ("Giao Lạc", "Giao Thủy"), ("Xuân Hồng", "Xuân Trường"), ("Xuân Ninh", "Xuân Trường"),
    ("Nghĩa Lâm", "Nghĩa Hưng"), ("Nghĩa Thành", "Nghĩa Hưng"), ("Yên Cường", "Ý Yên"),
    ("Yên Tiến", "Ý Yên"), ("Liên Minh", "Vụ Bản"), ("Kim Thái", "Vụ Bản"),
    ("Mỹ Thành", "Mỹ Lộc"), ("Mỹ Hà", "Mỹ Lộc"), ("Nam Thanh", "Nam Trực"),
    ("Nam Mỹ", "Nam Trực"), ("Trực Đại", "Trực Ninh"), ("Trực Chính", "Trực Ninh"),
)

SURNAMES = ("Nguyễn", "Trần", "Phạm", "Lê", "Vũ", "Đỗ", "Hoàng", "Đặng", "Bùi", "Đoàn", "Ngô")
MIDDLE_NAMES = ("Văn", "Thị", "Đức", "Minh", "Hữu", "Thanh", "Quang", "Ngọc", "Xuân")
GIVEN_NAMES = (
    "An", "Bình", "Cường", "Dũng", "Giang", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phong",
    "Sơn", "Tâm", "Thắng", "Tuấn", "Vinh", "Yến", "Hòa", "Lực", "Quyết",
)
OFFICIAL_TITLES = (
    "Phó Chủ tịch UBND tỉnh", "Phó Chủ tịch HĐND tỉnh", "Trưởng ban Tuyên giáo Tỉnh ủy",
    "Giám đốc Sở Nông nghiệp và Phát triển nông thôn", "Phó Giám đốc Sở Y tế",
    "Bí thư Huyện ủy Hải Hậu", "Chủ tịch UBND huyện Giao Thủy", "Chủ tịch Hội Nông dân tỉnh",
    "Phó Giám đốc Công an tỉnh", "Chỉ huy trưởng Bộ Chỉ huy Quân sự tỉnh",
    "Chủ tịch Ủy ban MTTQ tỉnh", "Giám đốc Sở Công Thương",
)

# Journalists and collaborators who sign articles and photos.
REPORTERS = (
    "Lam Hồng", "Thanh Thúy", "Viết Dư", "Ngọc Lan", "Hải Yến", "Hoàng Anh", "Minh Thu",
    "Thanh Hương", "Văn Đông", "Hồng Minh", "Đức Toàn", "Thu Hà", "Mai Phương", "Phạm Hiền",
    "Quang Thịnh", "Ngọc Ánh", "Trung Kiên", "Bảo Hân", "Nguyễn Hương", "Đỗ Thanh Tâm",
    "Trần Thu Trang", "Lê Văn Thắng", "Vũ Hải Đăng", "Phạm Quang Huy", "Ngô Diệu Linh",
)
SINGLE_AUTHOR_CREDITS = ("Tin, ảnh", "Bài và ảnh", "Bài, ảnh", "Tin và ảnh", "Bài", "Tin")

TAGS = (
    "nông thôn mới", "thi đua khen thưởng", "cải cách hành chính", "Hải Hậu", "Giao Thủy",
    "Nghĩa Hưng", "Ý Yên", "thành phố Nam Định", "an toàn giao thông", "phòng chống dịch",
    "Tết Canh Tý", "sản xuất nông nghiệp", "bảo hiểm y tế", "du lịch", "di tích lịch sử",
    "Đại hội Đảng", "tuyển quân", "ma túy", "OCOP", "doanh nghiệp", "xuất khẩu", "giáo dục",
    "môi trường", "giảm nghèo",
)

TITLE_VERBS = (
    "triển khai", "đẩy mạnh", "tổng kết", "sơ kết", "tăng cường", "bàn giải pháp",
    "nâng cao hiệu quả", "tập huấn về", "kiểm tra",
)
TITLE_HEADLINES = (
    "Hiệu quả từ", "Chuyển biến tích cực trong", "Nhiều cách làm hay trong", "Dấu ấn",
    "Điểm sáng trong", "Kết quả bước đầu trong",
)
MEETINGS = (
    "hội nghị tổng kết", "hội nghị sơ kết", "hội nghị triển khai", "lễ phát động",
    "lớp tập huấn về", "buổi tọa đàm về", "hội thảo về",
)
PERIODS = (
    "năm 2019", "6 tháng cuối năm 2019", "quý III-2019", "quý IV-2019", "tháng 1-2020",
    "2 tháng đầu năm 2020", "quý I-2020", "giai đoạn 2016-2020",
)
PROJECTS = (
    "đường trục xã", "nhà văn hóa thôn", "trạm bơm tiêu", "trường mầm non", "cầu dân sinh",
    "kênh tưới tiêu nội đồng", "trạm y tế xã", "khu xử lý rác thải tập trung",
)
MODELS = (
    "trồng rau an toàn", "nuôi ngao", "trồng hoa, cây cảnh", "chăn nuôi gà thả vườn",
    "trồng lúa chất lượng cao", "nuôi tôm thẻ chân trắng", "trồng dưa lưới trong nhà màng",
)
PARTICIPANTS = (
    "cán bộ, đảng viên", "hội viên nông dân", "đoàn viên thanh niên", "học sinh, sinh viên",
    "cán bộ cơ sở", "người lao động", "chủ doanh nghiệp",
)
RECIPIENTS = (
    "hộ nghèo", "gia đình chính sách", "học sinh có hoàn cảnh khó khăn", "người cao tuổi cô đơn",
    "công nhân có hoàn cảnh khó khăn",
)
OUTCOMES = (
    "góp phần nâng cao nhận thức của cán bộ, đảng viên và nhân dân",
    "tạo sự đồng thuận cao trong nhân dân",
    "từng bước nâng cao đời sống vật chất, tinh thần của người dân",
    "góp phần giữ vững an ninh chính trị, trật tự an toàn xã hội trên địa bàn",
    "tạo động lực để các địa phương hoàn thành các chỉ tiêu đề ra",
)
DIRECTIVES = (
    "tăng cường công tác tuyên truyền, nâng cao nhận thức của người dân",
    "rà soát, đánh giá cụ thể những tiêu chí còn hạn chế",
    "bố trí đủ nguồn lực để hoàn thành các mục tiêu đề ra",
    "kịp thời biểu dương, khen thưởng những tập thể, cá nhân có thành tích xuất sắc",
    "phối hợp chặt chẽ với các ngành chức năng trong quá trình triển khai",
)
RATE_SUBJECTS = (
    "người dân tham gia bảo hiểm y tế", "hộ dân sử dụng nước sạch",
    "rác thải sinh hoạt được thu gom, xử lý", "lao động qua đào tạo", "học sinh lên lớp",
    "hồ sơ thủ tục hành chính giải quyết đúng hạn",
)
CAPTION_ACTIONS = (
    "kiểm tra mô hình sản xuất", "kiểm tra tiến độ thi công công trình",
    "thăm hỏi, tặng quà gia đình chính sách", "trao đổi với người dân",
    "kiểm tra công tác chuẩn bị", "làm việc với lãnh đạo địa phương",
)
PEOPLE_ACTIVITIES = (
    "thu hoạch lúa", "chăm sóc cây vụ Đông", "tham gia ngày hội đại đoàn kết",
    "vệ sinh đường làng, ngõ xóm", "thu hoạch ngao", "trồng cây đầu xuân",
)

SENTENCE_FORMS = 14  # number of sentence patterns in _ArticleWriter._sentence

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


@dataclass(frozen=True)
class Section:
    """A news section (category) of the portal."""

    id: int
    name: str

    @property
    def path(self) -> str:
        """Path of the first listing page."""
        return f"/channel/{self.id}/"

    def page_path(self, page: int) -> str:
        """Path of listing page `page` (1-based); page 1 has no `/page/` suffix."""
        return self.path if page == 1 else f"{self.path}page/{page}/"

    @property
    def rss_path(self) -> str:
        """Path of the section's RSS feed."""
        return f"/rss/{self.id}.rss"


@dataclass
class ImageSpec:
    """An image of an article, with its caption as printed and as a clean record has it."""

    src: str
    caption: str
    credit: str | None
    caption_text: str


@dataclass
class PageLayout:
    """Rendering quirks of one article page; none of them changes the ground truth."""

    meta_charset: bool = True
    header_charset: bool = True
    sapo_strong: bool = False
    byline_plain: bool = False
    # For each image: how many body paragraphs precede it (0 = right after the sapo).
    image_positions: list[int] = field(default_factory=list)
    # For each image: whether its caption is printed again as a body paragraph.
    repeated_captions: list[bool] = field(default_factory=list)
    inline_ad_after: int | None = None
    widget_remains: list[str] = field(default_factory=list)
    # The real seed page ends its last paragraph with a no-break space.
    trailing_nbsp: bool = False
    related_ids: list[int] = field(default_factory=list)


@dataclass
class ArticleSpec:
    """One article page and the exact fields a clean extraction of it must give."""

    id: int
    section: Section
    path: str
    title: str
    lead: str
    paragraphs: list[str]
    published: datetime
    modified: datetime
    authors: list[str]
    credit: str | None
    byline_text: str
    tags: list[str]
    images: list[ImageSpec]
    layout: PageLayout = field(default_factory=PageLayout)

    @property
    def published_iso(self) -> str:
        """Publication time as ISO 8601 with offset, e.g. `2020-02-12T19:29:00+07:00`."""
        return self.published.isoformat()

    @property
    def modified_iso(self) -> str:
        """Last modification time as ISO 8601 with offset."""
        return self.modified.isoformat()

    @property
    def month(self) -> str:
        """Publication month as `YYYY-MM` (the monthly sitemap it is listed in)."""
        return self.published.strftime("%Y-%m")

    def url(self, origin: str) -> str:
        """Absolute URL of the page on a server reached at `origin`."""
        return origin + self.path


@dataclass
class Site:
    """The whole replica portal: sections and articles (newest first) plus lookups."""

    sections: list[Section]
    articles: list[ArticleSpec]
    most_read_ids: list[int] = field(default_factory=list)
    _by_path: dict[str, ArticleSpec] = field(init=False, repr=False, compare=False)
    _by_id: dict[int, ArticleSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index the articles by path and id."""
        self._by_path = {article.path: article for article in self.articles}
        self._by_id = {article.id: article for article in self.articles}

    def article_by_path(self, path: str) -> ArticleSpec | None:
        """Return the article served at `path`, or None."""
        return self._by_path.get(path)

    def article_by_id(self, article_id: int) -> ArticleSpec | None:
        """Return the article with this id, or None."""
        return self._by_id.get(article_id)

    def section_by_id(self, section_id: int) -> Section | None:
        """Return the section with this id, or None."""
        return next((s for s in self.sections if s.id == section_id), None)

    def articles_in_section(self, section: Section) -> list[ArticleSpec]:
        """Articles of one section, newest first."""
        return [a for a in self.articles if a.section.id == section.id]

    def months(self) -> list[str]:
        """Publication months (`YYYY-MM`) that have articles, newest first."""
        return sorted({a.month for a in self.articles}, reverse=True)

    def articles_in_month(self, month: str) -> list[ArticleSpec]:
        """Articles published in `month` (`YYYY-MM`), newest first."""
        return [a for a in self.articles if a.month == month]

    def tags(self) -> dict[str, str]:
        """Map of tag slug to tag name, for every tag used by some article."""
        return {slugify(tag): tag for article in self.articles for tag in article.tags}

    def articles_with_tag(self, tag_slug: str) -> list[ArticleSpec]:
        """Articles carrying the tag whose slug is `tag_slug`, newest first."""
        return [a for a in self.articles if tag_slug in {slugify(t) for t in a.tags}]

    @property
    def seed_article(self) -> ArticleSpec:
        """The article built from the real page in `tests/data/seed/`."""
        return self._by_id[SEED_ARTICLE_ID]


def slugify(text: str) -> str:
    """Make an ASCII, lowercase, hyphenated slug: `Khối thi đua` -> `khoi-thi-dua`."""
    # NFD splits letters from their diacritics, except đ/Đ which are letters of their own.
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def format_updated_line(moment: datetime) -> str:
    """Return the page's date line, e.g. `Cập nhật lúc19:29, Thứ Tư, 12/02/2020 (GMT+7)`."""
    # The missing space after "lúc" is how baonamdinh.vn prints it (see the seed article).
    return (
        f"Cập nhật lúc{moment:%H:%M}, {WEEKDAYS[moment.weekday()]}, "
        f"{moment:%d/%m/%Y} (GMT+7)"
    )


# What each edition after the first does to the portal (for incremental-crawl tests).
EDITION_CHANGED = 5
EDITION_ADDED = 10


def build_site(seed: int = 2020, articles: int = 240, edition: int = 1) -> Site:
    """Build the portal: the seed article plus `articles - 1` generated ones, newest first.

    Each `edition` after the first edits `EDITION_CHANGED` existing articles (a paragraph added,
    `modified` moved forward) and publishes `EDITION_ADDED` new ones, as a portal does between two
    nightly crawls; edition 1 is the portal as first built.
    """
    site = _build_first_edition(seed, articles)
    for number in range(2, edition + 1):
        site = _next_edition(site, seed, number)
    return site


def leave_out(site: Site, gaps: list[tuple[int, str]]) -> Site:
    """The site without the articles of each (section id, ``YYYY-MM``) in ``gaps``.

    A coverage gap on purpose (``--gap``): the month's sitemap, the section's listings and feeds
    simply lack them, as when a portal lost a month of one section.
    """
    gapped = set(gaps)
    kept = [a for a in site.articles if (a.section.id, a.month) not in gapped]
    return Site(sections=site.sections, articles=kept, most_read_ids=site.most_read_ids)


def parse_gap(value: str, sections: list[Section] | None = None) -> tuple[int, str]:
    """``SECTION:YYYY-MM`` (a section id, or its name's slug) as (section id, month)."""
    section, _, month = value.partition(":")
    sections = sections or [Section(section_id, name) for section_id, name in SECTIONS]
    found = next((s for s in sections if section in (str(s.id), slugify(s.name))), None)
    if found is None or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        known = ", ".join(f"{s.id} ({slugify(s.name)})" for s in sections)
        raise ValueError(f"--gap {value!r}: expected SECTION:YYYY-MM, SECTION one of {known}")
    return found.id, month


def _next_edition(site: Site, seed: int, edition: int) -> Site:
    """Edit some articles and publish new ones; the other pages stay byte-identical."""
    rng = random.Random(seed * 1009 + edition)
    used_texts: set[str] = set()
    for article in site.articles:
        used_texts |= _texts_of(article)
    writer = _ArticleWriter(rng, used_texts)
    writer.used_titles = {article.title for article in site.articles}
    newest = site.articles[0]
    # The seed article stays as the real page printed it.
    candidates = [a for a in site.articles if a.id != SEED_ARTICLE_ID]
    for article in rng.sample(candidates, min(EDITION_CHANGED, len(candidates))):
        article.paragraphs.append(
            writer._unique(writer.used_texts, lambda a=article: writer._paragraph(a.section, ""))
        )
        article.modified = max(article.modified, newest.modified) + timedelta(hours=edition)
    added = []
    next_id = max(a.id for a in site.articles)
    for number in range(EDITION_ADDED):
        next_id += rng.randint(1, 25)
        published = newest.published + timedelta(hours=edition * 24 + number)
        added.append(writer.article(next_id, published, rng.choice(site.sections)))
    everything = sorted([*added, *site.articles], key=lambda a: (a.published, a.id), reverse=True)
    for article in added:
        # Related articles only for the new pages, so no existing page changes by this.
        siblings = [
            a for a in everything if a.section.id == article.section.id and a is not article
        ]
        article.layout.related_ids = [a.id for a in siblings[:3]]
    return Site(sections=site.sections, articles=everything, most_read_ids=site.most_read_ids)


def _build_first_edition(seed: int, articles: int) -> Site:
    """The seed article plus `articles - 1` generated ones, newest first."""
    if articles < 1:
        raise ValueError("articles must be at least 1 (the seed article)")
    rng = random.Random(seed)
    sections = [Section(section_id, name) for section_id, name in SECTIONS]
    seed_article = load_seed_article(sections[0])
    writer = _ArticleWriter(rng, used_texts=_texts_of(seed_article))

    moments = sorted(writer.random_moment() for _ in range(articles - 1))
    # Ids grow with time as on the real portal, so older articles get smaller ids.
    seed_index = sum(1 for moment in moments if moment <= seed_article.published)
    ids = _ids_around(rng, SEED_ARTICLE_ID, seed_index, len(moments) + 1)
    ids.pop(seed_index)

    generated = [
        writer.article(article_id, moment, rng.choice(sections))
        for article_id, moment in zip(ids, moments, strict=True)
    ]
    everything = generated[:seed_index] + [seed_article] + generated[seed_index:]
    everything.sort(key=lambda a: (a.published, a.id), reverse=True)
    _link_related(rng, everything)
    newest = everything[:60]
    most_read = [a.id for a in rng.sample(newest, min(5, len(newest)))]
    return Site(sections=sections, articles=everything, most_read_ids=most_read)


def load_seed_article(section: Section, text_path: Path = SEED_TEXT_PATH) -> ArticleSpec:
    """Build the seed article's ground truth and layout from its naive extraction."""
    lines = [line.strip(" ") for line in text_path.read_text(encoding="utf-8").split("\n")]
    content = [line for line in lines if line]
    title, date_line, lead = content[0], content[1], content[2]
    published = _parse_updated_line(date_line)
    caption = next(a for a, b in zip(content, content[1:], strict=False) if a == b)
    byline = next(line for line in content if re.match(r"^(Tin|Bài)[^:]{0,12}: ", line))
    byline_at = content.index(byline)
    body = [line for line in content[3:byline_at] if line != caption]
    remains = content[byline_at + 1 :]
    if not body or any(line not in {",", "."} for line in remains):
        raise ValueError(f"{text_path} does not have the expected shape of the seed article")
    # The seed has no tags, so the empty tag widget below the body prints the last ",";
    # the other marks are widget remains inside the body.
    widget_remains = ["div-dot" if mark == "." else "p-comma" for mark in remains[:-1]]
    trailing_nbsp = body[-1].endswith("\u00a0")
    body[-1] = body[-1].rstrip("\u00a0")
    stamp = f"{published:%Y/%m/%d}"
    return ArticleSpec(
        id=SEED_ARTICLE_ID,
        section=section,
        path=f"/channel/{section.id}/{published:%Y%m}/{slugify(title)}-{SEED_ARTICLE_ID}/",
        title=title,
        lead=lead,
        paragraphs=body,
        published=published,
        modified=published,
        authors=["Lam Hồng"],
        credit="Tin, ảnh",
        byline_text=byline,
        tags=[],
        images=[ImageSpec(f"/uploads/{stamp}/{SEED_ARTICLE_ID}-1.jpg", caption, None, caption)],
        layout=PageLayout(
            image_positions=[0],
            repeated_captions=[True],
            widget_remains=widget_remains,
            trailing_nbsp=trailing_nbsp,
        ),
    )


def _parse_updated_line(line: str) -> datetime:
    """Parse `Cập nhật lúc19:29, Thứ Tư, 12/02/2020 (GMT+7)` into an aware datetime."""
    match = re.search(r"(\d{1,2}):(\d{2}), [^,]+, (\d{2})/(\d{2})/(\d{4})", line)
    if match is None:
        raise ValueError(f"not a date line: {line!r}")
    hour, minute, day, month, year = (int(part) for part in match.groups())
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM_TZ)


def _texts_of(article: ArticleSpec) -> set[str]:
    """Every text block of an article that must stay unique across the site."""
    return {article.lead, *article.paragraphs, *(image.caption for image in article.images)}


def _ids_around(rng: random.Random, pinned: int, index: int, count: int) -> list[int]:
    """Return `count` increasing ids where position `index` holds `pinned`."""
    ids = [pinned] * count
    for position in range(index + 1, count):
        ids[position] = ids[position - 1] + rng.randint(1, 25)
    for position in range(index - 1, -1, -1):
        ids[position] = ids[position + 1] - rng.randint(1, 25)
    return ids


def _link_related(rng: random.Random, articles: list[ArticleSpec]) -> None:
    """Give each article 3-5 related articles of its section, preferring older ones."""
    by_section: dict[int, list[ArticleSpec]] = {}
    for article in articles:
        by_section.setdefault(article.section.id, []).append(article)
    for article in articles:
        siblings = by_section[article.section.id]
        position = siblings.index(article)
        candidates = siblings[position + 1 :] + siblings[:position][::-1]
        article.layout.related_ids = [a.id for a in candidates[: rng.randint(3, 5)]]


class _ArticleWriter:
    """Draws generated articles from one random stream, keeping every text block unique."""

    def __init__(self, rng: random.Random, used_texts: set[str]) -> None:
        self.rng = rng
        self.used_texts = used_texts
        self.used_titles: set[str] = set()

    def random_moment(self) -> datetime:
        """A publication time between FIRST_DAY and LAST_DAY, 06:00-22:59, minute precision."""
        day = FIRST_DAY + timedelta(days=self.rng.randint(0, (LAST_DAY - FIRST_DAY).days))
        return datetime(
            day.year, day.month, day.day, self.rng.randint(6, 22), self.rng.randint(0, 59),
            tzinfo=VIETNAM_TZ,
        )

    def article(self, article_id: int, published: datetime, section: Section) -> ArticleSpec:
        """Generate one article of `section` published at `published`."""
        rng = self.rng
        topic = rng.choice(TOPICS[section.id])
        actor = rng.choice(ACTORS)
        title = self._unique(self.used_titles, lambda: self._title(actor, topic, published))
        lead = self._unique(self.used_texts, lambda: self._lead(actor, topic, published))
        paragraphs = [
            self._unique(self.used_texts, lambda: self._paragraph(section, topic))
            for _ in range(rng.randint(2, 7))
        ]
        images = [
            self._image(article_id, published, number) for number in range(1, rng.randint(0, 3) + 1)
        ]
        authors, credit, byline_text = self._byline()
        tags = rng.sample(TAGS, rng.choice((0, 1, 1, 2, 2, 3, 4)))
        modified = published
        if rng.random() < 0.25:
            modified = published + timedelta(minutes=rng.randint(5, 3 * 24 * 60))
        return ArticleSpec(
            id=article_id,
            section=section,
            path=f"/channel/{section.id}/{published:%Y%m}/{slugify(title)}-{article_id}/",
            title=title,
            lead=lead,
            paragraphs=paragraphs,
            published=published,
            modified=modified,
            authors=authors,
            credit=credit,
            byline_text=byline_text,
            tags=tags,
            images=images,
            layout=self._layout(len(paragraphs), len(images)),
        )

    def _unique(self, used: set[str], draw: Callable[[], str]) -> str:
        """Draw until the text is new; the vocabularies make repeats rare."""
        for _ in range(1000):
            text = unicodedata.normalize("NFC", draw())
            if text not in used:
                used.add(text)
                return text
        raise RuntimeError("vocabulary exhausted: too many articles for unique texts")

    def _title(self, actor: str, topic: str, published: datetime) -> str:
        rng = self.rng
        suffix = rng.choice(("", "", f" năm {published.year}", " giai đoạn 2016-2020"))
        form = rng.randrange(4)
        if form == 0:
            return _capitalize(f"{actor} {rng.choice(TITLE_VERBS)} {topic}{suffix}")
        if form == 1:
            return f"Hội nghị {rng.choice(('tổng kết', 'sơ kết', 'triển khai'))} {topic}{suffix}"
        if form == 2:
            return f"{_capitalize(self._commune())}: {rng.choice(TITLE_HEADLINES)} {topic}"
        return f"Nâng cao hiệu quả {topic} ở {self._commune()}"

    def _lead(self, actor: str, topic: str, published: datetime) -> str:
        rng = self.rng
        event_day = published - timedelta(days=rng.choice((0, 0, 0, 1)))
        moment = f"{event_day.day}-{event_day.month}"
        if event_day.date() != published.date():
            when = f"Ngày {moment}"
        else:
            when = "Sáng" if published.hour < 12 else "Chiều" if published.hour < 18 else "Tối"
            when = f"{when} {moment}"
        first = f"{when}, {actor} tổ chức {rng.choice(MEETINGS)} {topic}."
        if rng.random() < 0.6:
            return f"{first} Dự có đồng chí {self._official()}."
        return first

    def _paragraph(self, section: Section, topic: str) -> str:
        # Distinct sentence forms, so a paragraph never repeats the same pattern twice.
        forms = self.rng.sample(range(SENTENCE_FORMS), self.rng.randint(2, 5))
        return " ".join(self._sentence(form, section, topic) for form in forms)

    def _sentence(self, form: int, section: Section, article_topic: str) -> str:
        rng = self.rng
        topic = article_topic if rng.random() < 0.5 else rng.choice(TOPICS[section.id])
        actor = rng.choice(ACTORS)
        n, m = rng.randint(3, 95), rng.randint(120, 9800)
        if form == 0:
            return (
                f"Trong {rng.choice(PERIODS)}, {actor} đã triển khai {n} chương trình, đề án về "
                f"{topic}, thu hút {_thousands(m)} lượt người tham gia."
            )
        if form == 1:
            return (
                f"Đến nay, {self._commune()} đã hoàn thành {self._percent()} kế hoạch về {topic}, "
                f"vượt {self._percent(small=True)} so với cùng kỳ năm trước."
            )
        if form == 2:
            return (
                f"Theo báo cáo của {actor}, trong {rng.choice(PERIODS)}, đã có {_thousands(m)} "
                f"hộ gia đình được hỗ trợ với tổng kinh phí {self._money()}."
            )
        if form == 3:
            return (
                "Các đại biểu đã tập trung thảo luận, chỉ ra những hạn chế, khó khăn trong "
                f"{topic} và đề xuất {rng.randint(3, 12)} nhóm giải pháp trọng tâm."
            )
        if form == 4:
            return (
                f"Phát biểu tại buổi làm việc, đồng chí {self._official()} đề nghị {actor} "
                f"tiếp tục đẩy mạnh {topic}, {rng.choice(DIRECTIVES)}."
            )
        if form == 5:
            return (
                f"Công trình {rng.choice(PROJECTS)} tại {self._commune()} dự kiến hoàn thành "
                f"trong {rng.choice(('quý II', 'quý III', 'tháng 6', 'tháng 9'))} năm 2020, "
                f"với tổng mức đầu tư {self._money()}."
            )
        if form == 6:
            return (
                f"Trong {rng.choice(PERIODS)}, {actor} đã tổ chức {n} lớp tập huấn cho "
                f"{_thousands(m)} {rng.choice(PARTICIPANTS)}."
            )
        if form == 7:
            return (
                f"Tổng giá trị sản xuất của {self._commune()} năm 2019 ước đạt {self._money()}, "
                f"tăng {self._percent(small=True)} so với năm 2018."
            )
        if form == 8:
            low = rng.randint(80, 300)
            return (
                f"Hiện nay, {self._commune()} có {n} mô hình {rng.choice(MODELS)} cho thu nhập từ "
                f"{low} đến {low + rng.randint(20, 400)} triệu đồng/ha/năm."
            )
        if form == 9:
            return (
                f"Ngay từ đầu năm, {actor} đã ban hành kế hoạch, phân công nhiệm vụ cụ thể cho "
                f"{n} đơn vị, gắn với {topic}; qua đó {rng.choice(OUTCOMES)}."
            )
        if form == 10:
            return (
                f"Đồng chí {self._official()} yêu cầu các địa phương, đơn vị "
                f"{rng.choice(DIRECTIVES)}, phấn đấu hoàn thành {self._percent()} chỉ tiêu "
                "năm 2020."
            )
        if form == 11:
            return (
                f"Dịp này, {actor} đã trao {_thousands(m // 10)} suất quà, mỗi suất trị giá "
                f"{rng.randint(2, 9) * 100} nghìn đồng cho {rng.choice(RECIPIENTS)} tại "
                f"{self._commune()}."
            )
        if form == 12:
            return (
                f"Trong {rng.choice(PERIODS)}, lực lượng chức năng đã phát hiện, xử lý "
                f"{_thousands(m // 4)} vụ vi phạm, phạt tiền {self._money()}."
            )
        return (
            f"Tỷ lệ {rng.choice(RATE_SUBJECTS)} của {self._commune()} đạt {self._percent()}, "
            "cao hơn mức bình quân chung của tỉnh."
        )

    def _image(self, article_id: int, published: datetime, number: int) -> ImageSpec:
        rng = self.rng

        def draw_caption() -> str:
            if rng.random() < 0.5:
                return (
                    f"Đồng chí {self._official()} {rng.choice(CAPTION_ACTIONS)} tại "
                    f"{self._commune()}"
                )
            return f"Người dân {self._commune()} {rng.choice(PEOPLE_ACTIVITIES)}"

        form = rng.randrange(10)
        src = f"/uploads/{published:%Y/%m/%d}/{article_id}-{number}.jpg"
        if form >= 8:
            # A credit in parentheses follows the caption without a full stop: `… (Ảnh: Name)`.
            caption = self._unique(self.used_texts, draw_caption)
            photographer = rng.choice(REPORTERS)
            return ImageSpec(src, caption, photographer, f"{caption} (Ảnh: {photographer})")
        caption = self._unique(self.used_texts, lambda: f"{draw_caption()}.")
        if form < 5:
            return ImageSpec(src, caption, None, caption)
        photographer = rng.choice(REPORTERS)
        return ImageSpec(src, caption, photographer, f"{caption} Ảnh: {photographer}")

    def _byline(self) -> tuple[list[str], str | None, str]:
        """Return authors, credit and the byline line exactly as printed."""
        rng = self.rng
        if rng.random() < 1 / 15:
            return [], None, ""
        form = rng.randrange(20)
        if form < 12:
            credit = rng.choice(SINGLE_AUTHOR_CREDITS)
            author = rng.choice(REPORTERS)
            return [author], credit, f"{credit}: {author}"
        if form < 15:
            first, second = rng.sample(REPORTERS, 2)
            credit = rng.choice(("Bài và ảnh", "Tin, ảnh", "Bài"))
            separator = rng.choice((" - ", ", "))
            return [first, second], credit, f"{credit}: {first}{separator}{second}"
        author = rng.choice(REPORTERS)
        if form < 17:
            return [author], "CTV", f"{author} (CTV)"
        return [author], None, author

    def _layout(self, paragraph_count: int, image_count: int) -> PageLayout:
        rng = self.rng
        header_charset = rng.random() >= 0.2
        # A page always declares its charset somewhere; only one of the two may be missing.
        meta_charset = not header_charset or rng.random() >= 0.31
        remains: list[str] = []
        if rng.random() < 0.5:
            remains = [rng.choice(WIDGET_REMAIN_KINDS) for _ in range(rng.randint(2, 7))]
        return PageLayout(
            meta_charset=meta_charset,
            header_charset=header_charset,
            sapo_strong=rng.random() < 0.1,
            byline_plain=rng.random() < 0.25,
            image_positions=sorted(rng.randrange(paragraph_count) for _ in range(image_count)),
            repeated_captions=[rng.random() < 0.8 for _ in range(image_count)],
            inline_ad_after=rng.randrange(paragraph_count) if rng.random() < 0.3 else None,
            widget_remains=remains,
        )

    def _commune(self) -> str:
        commune, district = self.rng.choice(COMMUNES)
        return f"xã {commune} ({district})"

    def _official(self) -> str:
        rng = self.rng
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE_NAMES)} {rng.choice(GIVEN_NAMES)}"
        return f"{name}, {rng.choice(OFFICIAL_TITLES)}"

    def _percent(self, small: bool = False) -> str:
        whole = self.rng.randint(2, 25) if small else self.rng.randint(60, 99)
        return f"{whole},{self.rng.randint(1, 9)}%"

    def _money(self) -> str:
        rng = self.rng
        if rng.random() < 0.3:
            return f"{rng.randint(150, 950)} triệu đồng"
        return f"{rng.randint(1, 480)},{rng.randint(1, 9)} tỷ đồng"


def _capitalize(text: str) -> str:
    """Upper-case only the first character (str.capitalize would lower the rest)."""
    return text[:1].upper() + text[1:]


def _thousands(number: int) -> str:
    """Format with the Vietnamese thousands separator: 1250 -> `1.250`."""
    return f"{number:,}".replace(",", ".")
