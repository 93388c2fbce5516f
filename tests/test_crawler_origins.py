"""What counts as on-site: origins (scheme, host, port), for a normal and for a mirror crawl."""

from __future__ import annotations

import pytest

from crawler.origins import SiteOrigins, origin_of

DOMAINS = ("baonamdinh.vn",)


def test_an_origin_is_scheme_host_and_port_with_default_ports_filled_in():
    assert origin_of("http://127.0.0.1/a") == origin_of("http://127.0.0.1:80/b")
    assert origin_of("HTTPS://BaoNamDinh.vn/") == ("https", "baonamdinh.vn", 443)
    assert origin_of("http://127.0.0.1:8765/") != origin_of("http://127.0.0.1:8766/")
    for url in ("mailto:a@b.vn", "javascript:void(0)", "/relative", "http://x:99999/"):
        assert origin_of(url) is None, url


@pytest.mark.parametrize(
    ("url", "on_site"),
    [
        ("https://baonamdinh.vn/channel/5085/", True),
        ("http://baonamdinh.vn/channel/5085/", True),
        ("https://www.baonamdinh.vn/rss/home.rss", True),
        ("http://m.baonamdinh.vn:80/", True),
        ("https://baonamdinh.vn:443/", True),
        ("https://baonamdinh.vn:8443/", False),  # another port of the same host
        ("http://baonamdinh.vn:8080/", False),
        ("https://baonamdinh.vn.example.com/", False),
        ("https://notbaonamdinh.vn/", False),
        ("ftp://baonamdinh.vn/", False),
        ("http://127.0.0.1/", False),
    ],
)
def test_a_normal_crawl_covers_the_profiles_domains_on_default_ports(url, on_site):
    origins = SiteOrigins.for_crawl("https://baonamdinh.vn/", DOMAINS)
    assert not origins.mirror
    assert origins.allows(url) is on_site


@pytest.mark.parametrize(
    ("url", "on_site"),
    [
        ("http://127.0.0.1:8765/channel/5085/", True),
        ("http://127.0.0.1:8766/channel/5085/", False),  # another port
        ("https://127.0.0.1:8765/", False),  # another scheme, same port
        ("http://localhost:8765/", False),  # another name for the same server
        ("http://127.0.0.2:8765/", False),
        ("http://127.0.0.1/", False),
        ("https://baonamdinh.vn/channel/5085/", False),  # the real site is never contacted
    ],
)
def test_a_mirror_crawl_covers_the_mirrors_exact_origin_only(url, on_site):
    origins = SiteOrigins.for_crawl("http://127.0.0.1:8765/", DOMAINS)
    assert origins.mirror
    assert origins.allows(url) is on_site


def test_a_base_url_on_the_sites_own_domain_on_another_port_is_allowed_exactly():
    origins = SiteOrigins.for_crawl("http://www.baonamdinh.vn:8080/", DOMAINS)
    assert origins.allows("http://www.baonamdinh.vn:8080/a")
    assert origins.allows("https://baonamdinh.vn/a")
    assert not origins.allows("http://baonamdinh.vn:8080/a")


def test_a_base_url_without_a_host_is_refused():
    with pytest.raises(ValueError, match="base_url"):
        SiteOrigins.for_crawl("file:///tmp/mirror/", DOMAINS)
