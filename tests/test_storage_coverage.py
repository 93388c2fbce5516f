"""Coverage numbers: months without articles between busy months are gaps, quiet series are not;
fill rates and failures come from the store."""

from __future__ import annotations

from datetime import datetime, timezone

from storage.articles import ArticleStore
from storage.coverage import coverage, find_gaps, month_range


def series(*counts: int, start: str = "2019-01") -> dict[str, int]:
    return dict(zip(month_range([start, f"{int(start[:4]) + 2}-12"]), counts, strict=False))


def test_an_empty_month_between_busy_months_is_a_gap():
    assert find_gaps(series(8, 9, 0, 7, 8)) == [{"month": "2019-03", "before": 9, "after": 7}]


def test_a_run_of_empty_months_is_one_gap_per_month():
    gaps = find_gaps(series(8, 9, 0, 0, 7, 8))
    assert [gap["month"] for gap in gaps] == ["2019-03", "2019-04"]


def test_quiet_series_and_the_edges_have_no_gap():
    assert find_gaps(series(1, 0, 2, 0, 1, 0, 1)) == []  # a section that rarely publishes
    assert find_gaps(series(0, 9, 9, 9, 0)) == []  # coverage starts and ends somewhere
    assert find_gaps(series(30, 2, 0, 30, 30)) == []  # a slow month before it: not "many"


def test_month_range_crosses_years():
    assert month_range(["2020-02", "2019-11"]) == ["2019-11", "2019-12", "2020-01", "2020-02"]


def record(number: int, published: str | None, section: str = "Xã hội", **fields) -> dict:
    return {"url": f"http://example.test/{number}/", "site": "example", "title": f"T{number}",
            "body": "text", "published": published, "section": section, "authors": [],
            "content_hash": f"sha256:{number}", **fields}


def test_store_numbers_months_undated_fill_rates_and_failures(store_location):
    with ArticleStore(store_location) as store:
        store.upsert(record(1, "2020-01-31T23:30:00+07:00", authors=["A"]))
        store.upsert(record(2, "2020-03-01", section="Kinh tế"))
        store.upsert(record(3, None))
        store.record_failure("http://example.test/9/", "example", "http_404", None,
                             datetime(2020, 4, 1, tzinfo=timezone.utc), 30)
        numbers = coverage(store)
    site = numbers["sites"]["example"]
    # Local month as printed: 23:30 on 31 January in Hanoi is January.
    assert site["months"] == {"2020-01": 1, "2020-02": 0, "2020-03": 1}
    assert site["sections"]["Kinh tế"] == {"2020-01": 0, "2020-02": 0, "2020-03": 1}
    assert (site["articles"], site["undated"], numbers["articles"]) == (3, 1, 3)
    assert site["fill_rates"]["published"] == round(2 / 3, 4)
    assert site["fill_rates"]["authors"] == round(1 / 3, 4)  # [] is not an author
    assert site["fill_rates"]["modified"] == 0
    assert numbers["failed_articles"] == {"example": {"http_404": 1}}
