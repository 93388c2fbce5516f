"""CSS selectors compiled once, and an index that answers many of them in one walk of a page.

`compile_css` turns a profile's CSS selectors into `CompiledSelector`s: each is called like the
``lxml.etree.XPath`` cssselect's translation gives (``selector(element)`` returns the matching
elements in document order), and the plain shapes site profiles use (``h1.detail-title``,
``#contentdetail``, ``div[data-slot=content]``, ``.breadcrumb a.cate``: compound selectors joined by
descendant combinators) also carry a match plan. An `ElementIndex` walks the page once, files its
elements by tag, class and id, and answers a planned selector from that file; libxml2 evaluates
each class test of a translated selector on every element of the page, which costs more per
selector than the whole walk. Anything else (child combinators, pseudo-classes, groups) runs
as XPath, and both ways return the same elements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cssselect
from cssselect import GenericTranslator
from cssselect.parser import Attrib, Class, CombinedSelector, Element, Hash
from cssselect.xpath import is_non_whitespace
from lxml import etree

# Attribute names as lxml takes them fastest: a `str` name is encoded again on every lookup.
_ID, _CLASS = b"id", b"class"
# The operators the match plan reads exactly as cssselect translates them.
_PLANNED_OPERATORS = frozenset({"exists", "=", "~=", "*="})


class _Translator(GenericTranslator):
    """cssselect's translation, with class tests that libxml2 evaluates faster.

    cssselect reads ``.detail-sapo`` as the token test
    ``contains(concat(' ', normalize-space(@class), ' '), ' detail-sapo ')``, which builds two
    strings on every element that has a class. A plain substring test in front (a token is
    always a substring of the raw attribute) rejects most elements first; the elements matched
    are the same.
    """

    def xpath_attrib_includes(self, xpath, name: str, value: str | None):
        """``[name~=value]`` (and ``.value`` for ``@class``), pre-filtered by a substring test."""
        if not value or not is_non_whitespace(value):
            xpath.add_condition("0")  # no token can match an empty or blank value
            return xpath
        token, padded = self.xpath_literal(value), self.xpath_literal(f" {value} ")
        xpath.add_condition(
            f"{name} and contains({name}, {token})"
            f" and contains(concat(' ', normalize-space({name}), ' '), {padded})"
        )
        return xpath


_translator = _Translator()


def _tokens(value: str) -> list[str]:
    """The whitespace-separated tokens of an attribute, as XPath's ``normalize-space`` splits.

    Only space, tab, CR and LF separate (not NBSP, unlike ``str.split``). Empty strings may be
    among the tokens; a planned selector never looks one up.
    """
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return value.split(" ")


def _plain(value: str | None) -> bool:
    """A value the plan compares as cssselect's XPath does: not empty, no whitespace at all."""
    return bool(value) and not any(char.isspace() for char in value)


@dataclass(frozen=True)
class _Compound:
    """One compound selector (``div#main.detail[data-x=y]``) as tests on one element."""

    tag: str | None
    ids: tuple[str, ...]
    classes: tuple[str, ...]
    attributes: tuple[tuple[str, str, str | None], ...]

    def matches(self, element: etree._Element) -> bool:
        """Whether ``element`` passes every test of this compound."""
        if self.tag is not None and element.tag != self.tag:
            return False
        for value in self.ids:
            if element.get(_ID) != value:
                return False
        if self.classes:
            classes = element.get(_CLASS)
            if classes is None:
                return False
            for name in self.classes:  # a token is a substring: most elements fail here
                if name not in classes:
                    return False
            tokens = _tokens(classes)
            for name in self.classes:
                if name not in tokens:
                    return False
        for name, operator, value in self.attributes:
            actual = element.get(name)
            if actual is None:
                return False
            if operator == "=" and actual != value:
                return False
            if operator == "*=" and value not in actual:
                return False
            if operator == "~=" and value not in _tokens(actual):
                return False
        return True


def _compound(node) -> _Compound | None:
    """The tests of one parsed compound selector; None for anything the plan does not read."""
    ids: list[str] = []
    classes: list[str] = []
    attributes: list[tuple[str, str, str | None]] = []
    while not isinstance(node, Element):
        if isinstance(node, Class):
            if not _plain(node.class_name):
                return None
            classes.append(node.class_name)
        elif isinstance(node, Hash):
            ids.append(node.id)
        elif isinstance(node, Attrib):
            if node.namespace or node.operator not in _PLANNED_OPERATORS:
                return None
            value = node.value.value if node.value is not None else None
            if node.operator in ("~=", "*=") and not _plain(value):
                return None
            attributes.append((node.attrib, node.operator, value))
        else:
            return None
        node = node.selector
    if node.namespace:
        return None
    return _Compound(node.element, tuple(ids), tuple(classes), tuple(attributes))


def _plan(css: str) -> tuple[_Compound, ...] | None:
    """Compounds joined by descendant combinators, outermost first; None for other selectors."""
    try:
        parsed = cssselect.parse(css)
    except cssselect.SelectorError:
        return None
    if len(parsed) != 1 or parsed[0].pseudo_element:
        return None
    chain: list[_Compound] = []
    node = parsed[0].parsed_tree
    while isinstance(node, CombinedSelector):
        if node.combinator != " ":
            return None
        compound = _compound(node.subselector)
        if compound is None:
            return None
        chain.append(compound)
        node = node.selector
    compound = _compound(node)
    if compound is None:
        return None
    chain.append(compound)
    if len(chain) > 1 and not (chain[0].ids or chain[0].classes) and not (
        len(chain) == 2 and (chain[1].ids or chain[1].classes)
    ):
        # "ul.nav li a": every link of the page would climb to the root; libxml2 does it
        # faster. ".detail-tags a" is read from the ".detail-tags" elements down instead.
        return None
    return tuple(reversed(chain))


def _keyed(plan: tuple[_Compound, ...]) -> _Compound:
    """The compound whose id or class gives a plan's candidates (see `ElementIndex.select`).

    The last one, unless it has neither: then (``.detail-tags a``) the first of two.
    """
    last = plan[-1]
    if len(plan) == 2 and not (last.ids or last.classes):
        return plan[0]
    return last


def _within(element: etree._Element, ancestor: etree._Element) -> bool:
    """Whether ``element`` is a strict descendant of ``ancestor``."""
    element = element.getparent()
    while element is not None:
        if element is ancestor:
            return True
        element = element.getparent()
    return False


class CompiledSelector:
    """One CSS selector: its XPath, and its match plan when it has the plain shape."""

    __slots__ = ("css", "keyed", "plan", "xpath")

    def __init__(self, css: str) -> None:
        self.css = css
        self.xpath = etree.XPath(_translator.css_to_xpath(css))
        self.plan = _plan(css)
        # The compound an `ElementIndex` files this selector's candidates by (see `_keyed`).
        self.keyed = _keyed(self.plan) if self.plan is not None else None

    def __call__(self, context: etree._Element) -> list:
        """The elements under (and including) ``context`` that match, in document order."""
        return self.xpath(context)

    def under(self, element: etree._Element) -> list:
        """``self(element)`` for a small subtree (an image block): walked, not run as XPath.

        Setting up an XPath evaluation costs more than walking a few elements in Python.
        """
        if self.plan is None or len(self.plan) > 1:
            return self.xpath(element)
        compound = self.plan[0]
        return [
            found for found in element.iter(compound.tag or etree.Element)
            if compound.matches(found)
        ]

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


class ElementIndex:
    """The elements of a tree that planned selectors look for, filed in one walk.

    Built for the selectors a caller is about to run (``selectors``): the walk files the
    elements carrying the id or class each of them keys on; a selector the caller did not
    announce still gets the right answer, from a scan of its own. `select` answers like
    ``selector(root)`` while the tree is as it was when the index was built; once elements
    have been removed from it (nothing added or moved), `select_remaining` does.
    """

    def __init__(self, root: etree._Element, selectors: Sequence = ()) -> None:
        self.root = root
        self._elements: list[etree._Element] | None = None
        self._by_class: dict[str, list[etree._Element]] = {}
        self._by_id: dict[str, list[etree._Element]] = {}
        # Set by `within`: the page index whose files this one reads, and what is known to be
        # inside this one's root.
        self._filed_by: ElementIndex | None = None
        self._membership: dict[etree._Element, bool] = {}
        for selector in selectors:
            plan = getattr(selector, "plan", None)
            if plan is None:
                continue
            keyed = selector.keyed
            if keyed.ids:
                self._by_id[keyed.ids[0]] = []
            elif keyed.classes:
                self._by_class[keyed.classes[0]] = []
        if self._by_class or self._by_id:
            self._file(root)

    def _file(self, root: etree._Element) -> None:
        by_class, ids = self._by_class, self._by_id
        for element in root.iter(etree.Element):
            if ids and (identifier := element.get(_ID)) in ids:
                ids[identifier].append(element)
            if by_class and (value := element.get(_CLASS)):
                if " " not in value and value.isprintable():  # one class, the usual case
                    if (found := by_class.get(value)) is not None:
                        found.append(element)
                    continue
                # One split costs less than a substring test per wanted class.
                for token in _tokens(value):
                    found = by_class.get(token)
                    if found is not None and (not found or found[-1] is not element):
                        found.append(element)

    def within(self, container: etree._Element) -> ElementIndex:
        """This index answering for the subtree of ``container``, an element of its tree.

        The body container's removals and image blocks are then read from the page's one walk
        instead of a walk of their own: the filed elements a selector asks for are checked for
        being inside, when it asks.
        """
        scoped = ElementIndex(container)
        scoped._filed_by = self
        scoped._membership = {container: True}
        return scoped

    def _in_scope(self, element: etree._Element) -> bool:
        """Whether ``element`` is the root of this (scoped) index or under it."""
        membership = self._membership
        path = []
        while element is not None and element not in membership:
            path.append(element)
            element = element.getparent()
        answer = element is not None and membership[element]
        for visited in path:  # their ancestors are known now: the next climb stops sooner
            membership[visited] = answer
        return answer

    def _filed(self, kind: str, key: str) -> list[etree._Element] | None:
        """The elements filed under ``key`` (an id or a class), or None if none were filed."""
        files = self._by_id if kind == "id" else self._by_class
        found = files.get(key)
        if found is None and self._filed_by is not None:
            page_files = self._filed_by._by_id if kind == "id" else self._filed_by._by_class
            if key in page_files:
                found = files[key] = [e for e in page_files[key] if self._in_scope(e)]
        return found

    def _all(self) -> list[etree._Element]:
        if self._elements is None:
            self._elements = list(self.root.iter(etree.Element))
        return self._elements

    def _candidates(self, compound: _Compound) -> list[etree._Element]:
        """Elements in document order among which every match of ``compound`` is."""
        if compound.ids:
            key = compound.ids[0]
            found = self._filed("id", key)
            if found is None:
                found = self._by_id[key] = [e for e in self._all() if e.get("id") == key]
            return found
        if compound.classes:
            key = compound.classes[0]
            found = self._filed("class", key)
            if found is None:
                found = self._by_class[key] = [
                    e for e in self._all() if key in _tokens(e.get("class") or "")
                ]
            return found
        if compound.tag is not None:
            return list(self.root.iter(compound.tag))
        return self._all()

    def select(self, selector) -> list:
        """The elements ``selector`` finds in the tree (any XPath-like callable is accepted)."""
        plan = getattr(selector, "plan", None)
        if plan is None:
            return selector(self.root)
        last = plan[-1]
        if selector.keyed is not last:
            return self._below(plan[0], last)
        if len(plan) == 1:
            return [element for element in self._candidates(last) if last.matches(element)]
        outer = len(plan) - 2
        return [
            element for element in self._candidates(last)
            if last.matches(element) and self._inside(element, plan, outer)
        ]

    def select_remaining(self, selector) -> list:
        """`select` on the tree as it is now, after elements were removed from it."""
        if getattr(selector, "plan", None) is None:
            return selector(self.root)
        return [element for element in self.select(selector) if self._attached(element)]

    def _attached(self, element: etree._Element) -> bool:
        while element is not self.root:
            element = element.getparent()
            if element is None:
                return False
        return True

    def _below(self, outer: _Compound, inner: _Compound) -> list:
        """``outer inner`` read downwards: the matches of ``inner`` under those of ``outer``."""
        found = []
        previous = None
        for container in self._candidates(outer):
            if not outer.matches(container):
                continue
            if previous is not None and _within(container, previous):
                continue  # its descendants were read with the enclosing match
            previous = container
            found.extend(
                element for element in container.iter(inner.tag or etree.Element)
                if element is not container and inner.matches(element)
            )
        return found

    def _inside(self, element: etree._Element, plan: tuple[_Compound, ...], level: int) -> bool:
        """Whether an ancestor of ``element`` (up to the root) matches ``plan[: level + 1]``."""
        while element is not self.root:
            element = element.getparent()
            if element is None:
                return False
            if plan[level].matches(element) and (
                level == 0 or self._inside(element, plan, level - 1)
            ):
                return True
        return False
