"""Finding a site's profile (``crawler/sites.py``), and the parsing package staying pure."""

from __future__ import annotations

import subprocess
import sys

import pytest

from crawler.sites import find_profile, load_profile, site_ids
from tests.conftest import PROJECT_ROOT


@pytest.mark.parametrize(("url", "site"), [
    ("https://baonamdinh.vn/channel/5085/202002/x-1/", "baonamdinh"),
    ("https://www.baonamdinh.vn/", "baonamdinh"),
    ("https://VNExpress.net/kinh-doanh", "vnexpress"),
    ("https://notbaonamdinh.vn/", None),
    ("https://example.vn/", None),
])
def test_a_url_finds_the_profile_whose_domains_cover_its_host(url, site):
    profile = find_profile(url=url)
    assert (profile.site_id if profile else None) == site


def test_every_site_profile_holds_its_own_listing_urls_and_next_pages():
    """Paging follows only next pages matching ``listing_url_pattern`` (spiders/base.py); the
    saved listings of ``tests/sites`` check the real next pages, this the profiles' own paths."""
    for site_id in site_ids():
        profile = load_profile(site_id)
        # The home page is a listing too, without the sections' shape.
        sections = [path for path in profile.listing_urls if path != "/"]
        assert sections and all(map(profile.is_listing_url, sections)), site_id


def test_the_parsing_package_loads_neither_scrapy_nor_the_site_modules():
    code = (
        "import importlib, pkgutil, sys\n"
        "import crawler.parsing as parsing\n"
        "for module in pkgutil.iter_modules(parsing.__path__):\n"
        "    importlib.import_module(f'crawler.parsing.{module.name}')\n"
        "loaded = sorted({name.split('.')[0] for name in sys.modules} & {'scrapy', 'spiders'})\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
