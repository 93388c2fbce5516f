"""Whitespace runs made one space: `single_spaced`, the last step of every text normaliser."""

from __future__ import annotations


def single_spaced(text: str, printable: bool | None = None) -> str:
    """Return ``" ".join(text.split())``: whitespace runs become one space, the ends stripped.

    Most lines of a page already are single-spaced, and splitting a long paragraph into words
    only to join them again costs more than the rest of its cleaning. ``str.isprintable`` is
    False for every whitespace character except the ASCII space (all are control characters
    or separators), so a printable text with no double space and no space at either end comes
    back as it is. ``printable`` is ``text.isprintable()`` when the caller knows it already.
    """
    if printable is None:
        printable = text.isprintable()
    if printable and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())
