"""The replica's switchable faults and editions."""

from __future__ import annotations

import json
import unicodedata
import urllib.error
import urllib.request

import pytest

from tests.replica import pages
from tests.replica.content import EDITION_ADDED, EDITION_CHANGED, build_site
from tests.replica.faults import FaultPlan, FaultRule, encode_cp1258
from tests.replica.process import ReplicaProcess


def test_rules_parse_and_hit_the_same_paths_every_time():
    rule = FaultRule.parse("503:0.25")
    paths = [article.path for article in build_site(articles=200).articles]
    hits = [path for path in paths if rule.hits(path)]
    assert hits == [path for path in paths if FaultRule.parse("503:0.25").hits(path)]
    assert 25 <= len(hits) <= 75
    assert not FaultRule.parse("500@^/nowhere/").hits(paths[0])
    with pytest.raises(ValueError, match="unknown fault"):
        FaultRule.parse("teapot")


def test_transient_faults_pass_after_their_burst():
    plan = FaultPlan.parse(["500", "cp1258"], burst=2)
    path = build_site(articles=2).articles[0].path
    assert [plan.fault_for(path, attempt) for attempt in (1, 2, 3)] == ["500", "500", "cp1258"]


def test_windows_1258_round_trips_vietnamese_text():
    text = "Hội nghị tổng kết công tác xây dựng Đảng ở xã Nghĩa Hưng"
    encoded = encode_cp1258(text)
    assert b"&#" not in encoded
    assert unicodedata.normalize("NFC", encoded.decode("cp1258")) == text


def test_an_edition_edits_some_articles_adds_others_and_leaves_the_rest_byte_identical():
    first, second = build_site(articles=60), build_site(articles=60, edition=2)
    old = {article.path: article for article in first.articles}
    origin = "http://127.0.0.1:1"
    added = [a for a in second.articles if a.path not in old]
    changed = [
        a for a in second.articles if a.path in old
        and pages.render_article(second, a, origin) != pages.render_article(first, old[a.path],
                                                                             origin)
    ]
    assert (len(added), len(changed)) == (EDITION_ADDED, EDITION_CHANGED)
    assert all(a.modified > old[a.path].modified for a in changed)
    assert build_site(articles=60, edition=2) == second


def test_faults_switch_on_by_flag_and_by_control_endpoint():
    site = build_site(articles=20)
    article = site.articles[0]
    with ReplicaProcess(articles=20, faults=["429@^/robots.txt$"]) as portal:
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(portal.url("/robots.txt"), timeout=10)
        assert raised.value.code == 429 and raised.value.headers["Retry-After"] == "1"
        config = json.dumps({"rules": ["redirect-loop@" + article.path]}).encode()
        request = urllib.request.Request(portal.url("/__replica__/faults"), data=config)
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["rules"][0].startswith("redirect-loop:1@")
        with pytest.raises(urllib.error.HTTPError, match="redirect"):
            urllib.request.urlopen(portal.url(article.path), timeout=10)
        portal.set_edition(2)
        with urllib.request.urlopen(portal.url("/rss/home.rss"), timeout=10) as response:
            feed = response.read().decode("utf-8")
        assert build_site(articles=20, edition=2).articles[0].title in feed
