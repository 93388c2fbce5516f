"""CSS selectors of site profiles: checked once, run by Lexbor's selector engine.

A profile's selectors must read the same in both engines that run them: Lexbor (selectolax)
on article pages, and cssselect (parsel, Scrapy's selectors) on listing pages. `compile_css`
checks each with both when the profile loads, so a selector one of them cannot read
(cssselect's ``:contains()``, Lexbor's ``:lexbor-contains()``) fails then, naming itself, not
mid-crawl. A `CompiledSelector` called on an element (or a whole document) returns the matching
elements in document order, the element itself included when it matches, as XPath's
``descendant-or-self`` does. On a page in quirks mode (no doctype) Lexbor matches class and id
names regardless of case, as browsers do.
"""

from __future__ import annotations

from collections.abc import Sequence

from cssselect import GenericTranslator, SelectorError
from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

_EMPTY_PAGE = LexborHTMLParser("<html></html>")
_TRANSLATOR = GenericTranslator()


class CompiledSelector:
    """One CSS selector, known to parse in both engines."""

    __slots__ = ("css",)

    def __init__(self, css: str) -> None:
        try:
            _TRANSLATOR.css_to_xpath(css)
        except SelectorError as error:
            raise ValueError(f"CSS selector {css!r}: cssselect cannot read it: {error}") from error
        try:
            _EMPTY_PAGE.css(css)
        except SelectolaxError as error:
            raise ValueError(f"CSS selector {css!r}: Lexbor cannot read it: {error}") from error
        self.css = css

    def __call__(self, scope: LexborHTMLParser | LexborNode) -> list[LexborNode]:
        """The elements under (and including) ``scope`` that match, in document order."""
        return scope.css(self.css)

    def first(self, scope: LexborHTMLParser | LexborNode) -> LexborNode | None:
        """The first element ``self(scope)`` would return; the search stops there."""
        return scope.css_first(self.css)

    def __repr__(self) -> str:
        return f"CompiledSelector({self.css!r})"


def compile_css(selectors: Sequence[str]) -> tuple[CompiledSelector, ...]:
    """Compile CSS selectors once; an empty or blank selector is a profile bug."""
    compiled = []
    for css in selectors:
        if not css or not css.strip():
            raise ValueError("empty CSS selector in site profile")
        compiled.append(CompiledSelector(css))
    return tuple(compiled)
