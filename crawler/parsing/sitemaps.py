"""Sitemaps and RSS/Atom feeds parsed as XML safely by construction, whatever the bytes hold.

`parse_xml` is the one lxml parser the spider uses for XML from portals: entities are never
substituted (``resolve_entities=False``), nothing is fetched (``no_network=True``, no DTD loaded,
``load_dtd=False``), and libxml2's limits against huge documents stay on (``huge_tree=False``).
A document whose DTD declares entities (general or parameter, with text or ``SYSTEM`` URLs) is
refused with `XmlEntitiesError`: sitemaps and feeds never need one, and that is how "billion
laughs" and external-entity attacks are written. The check reads the DTD the parser built, so it
holds wherever the DOCTYPE sits (a scan of the first 64 KB missed one after a 70 KB comment).

``collect_ids`` stays at lxml's default on purpose: ``XMLParser(collect_ids=False)`` makes
libxml2 load external parameter entities from local files (``<!ENTITY % x SYSTEM
"file:///dev/zero"> %x;`` then never returns; seen with lxml 6.1 on libxml2 2.14), and the tests
check that no such file is opened.

`sitemap_entries` reads the sitemap tree the way Scrapy's ``scrapy.utils.sitemap.Sitemap`` does
(root type, and the child fields of each ``<url>``/``<sitemap>``). It is written here rather than
reused because that class parses the bytes again with parser settings of its own, which changed
between Scrapy versions; reading our own tree keeps the safety in this one parser.

Pure functions: no Scrapy imports, no settings.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree


class XmlError(ValueError):
    """Bytes that are no XML document (or an empty one); the message says why."""


class XmlEntitiesError(XmlError):
    """An XML document whose DTD declares entities: refused, whatever it would expand to."""


def parse_xml(body: bytes) -> etree._Element:
    """The root element of an XML document, parsed without entities, network or DTD loading.

    Recovers from markup errors as browsers and feed readers do. Raises `XmlEntitiesError`
    when the DTD declares entities, `XmlError` when there is no document.
    """
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        recover=True, remove_comments=True, remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as error:
        raise XmlError(str(error)) from error
    if root is None:
        raise XmlError("empty document")
    dtd = root.getroottree().docinfo.internalDTD
    declared = [entity.name for entity in dtd.iterentities()] if dtd is not None else []
    if declared:
        shown = ", ".join(declared[:3]) + (", …" if len(declared) > 3 else "")
        raise XmlEntitiesError(f"the DTD declares {len(declared)} XML entities ({shown})")
    return root


def _local_name(element: etree._Element) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def sitemap_entries(root: etree._Element) -> tuple[str, Iterator[dict[str, str]]]:
    """The sitemap's type (``urlset``, ``sitemapindex``) and its entries having a ``loc``.

    Each entry maps a child's local name (``loc``, ``lastmod``, …) to its stripped text.
    """

    def entries() -> Iterator[dict[str, str]]:
        for element in root:
            if _local_name(element) not in {"url", "sitemap"}:
                continue
            entry = {_local_name(child): (child.text or "").strip() for child in element
                     if _local_name(child)}
            if entry.get("loc"):
                yield entry

    return _local_name(root), entries()
