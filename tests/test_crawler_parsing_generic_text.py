"""Article text on the generic path: no whole article lost, no heading or short post dropped.

Each case is a way the generic path lost text a reader sees (issue 14): trafilatura's fast pass
keeping a sliver of a long article, a prune rule on a class token removing the container that
holds the article, a heading dropped because a table-of-contents link has its text, a short post
dropped whole.
"""

from __future__ import annotations

from bench.eval_generic import load_dev_pages
from crawler.parsing import extract_article, generic

PARAGRAPHS = [
    "The river had been dry for three summers when the first rain came back to the valley.",
    "Farmers who had sold their cattle watched the water rise along the old stone banks.",
    "By the end of the week the school reopened, and the ferry crossed again every hour.",
    "Engineers from the province said the dam upstream would release water in the spring.",
]


def _body(html: str, url: str = "https://example.org/2024/05/01/river.html") -> str:
    return extract_article(html.encode(), url)["body"] or ""


def test_an_article_the_fast_pass_keeps_a_sliver_of_is_read_in_full() -> None:
    # spiegel.de (trafilatura's test page): 15,337 characters of article, which the fast pass
    # alone reads as 797.
    page = next(p for p in load_dev_pages() if p.page_id == "trafilatura/spiegel.de.albtraum")
    body = extract_article(page.html, page.url)["body"] or ""
    assert len(body) > 10_000
    assert "Die Geschichte beginnt am 26. Oktober" in body


def test_a_prune_rule_never_removes_the_element_holding_the_article() -> None:
    # WordPress themes name the article container "entry themeform share": the token "share"
    # is also the name of share bars, which are pruned.
    paragraphs = "".join(f"<p>{text}</p>" for text in PARAGRAPHS + PARAGRAPHS[::-1])
    about = "This blog is written by a retired teacher who lives by the river, since 1998, "
    about += "and who walks along its banks every morning before the town wakes up."
    html = (
        "<html><head><title>River</title></head><body><h1>The river is back</h1>"
        f'<div class="main"><div class="entry themeform share">{paragraphs}</div></div>'
        '<div class="share"><a href="#">Facebook</a> <a href="#">Twitter</a></div>'
        f'<div class="about"><p>{about}</p><p>{about}</p></div></body></html>'
    )
    body = _body(html)
    # The extractor itself reads the article (not only the last-resort container heuristic).
    blocks = generic.main_text_blocks(html, "https://example.org/2024/05/01/river.html")
    for text in PARAGRAPHS:
        assert text in body
        assert text in blocks
    assert "Twitter" not in body and "retired teacher" not in body


def test_prune_rules_remove_furniture_by_class_token_and_footer_name_only() -> None:
    # The rules test attribute nodes (cheaper than testing @class on every element); they must
    # select what the class-token and footer rules name, and nothing that merely contains them.
    import trafilatura

    article = "".join(f"<p>{text}</p>" for text in PARAGRAPHS * 3)
    html = (
        '<html><body class="footer-fixed"><div class="post"><h1>The river is back</h1>'
        f'{article}<p class="source">Theo TTXVN</p>after the credit'
        '<div class="entry share-bar share"><a href="#">Facebook</a></div>'
        '<div class="sharedaddy">Kept: not the token share</div>'
        '<ul class="breadcrumb"><li>Home</li></ul></div>'
        '<div id="site-footer">Address of the paper</div>'
        '<div class="post-footer">Print this page</div></body></html>'
    )
    tree = trafilatura.load_html(html)
    generic.prune(tree, None)
    text = tree.text_content()
    for gone in ("Theo TTXVN", "Facebook", "Home", "Address of the paper", "Print this page"):
        assert gone not in text
    for kept in (*PARAGRAPHS, "after the credit", "Kept: not the token share"):
        assert kept in text


def test_a_heading_with_the_text_of_a_table_of_contents_link_is_kept() -> None:
    heading = "How the water came back to the river valley"
    paragraphs = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
    html = (
        "<html><head><title>River</title></head><body><article><h1>The river is back</h1>"
        f'<ul class="toc"><li><a href="#water">{heading}</a></li></ul>'
        f"{paragraphs}<h2 id=\"water\">{heading}</h2>{paragraphs.replace('river', 'stream')}"
        "</article></body></html>"
    )
    assert heading in _body(html)


def test_a_short_post_is_kept_whole() -> None:
    post = "Road 12 is closed tomorrow from 8 to 11 for repairs; take the river road instead."
    html = (
        "<html><head><title>Notice</title></head><body><article><h1>Road 12 closed</h1>"
        f"<p>{post}</p></article><footer>© Town hall</footer></body></html>"
    )
    assert _body(html) == post
