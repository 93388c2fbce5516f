"""The F1 floor: the generic extractor on the 181 hand-labelled pages of the Zyte benchmark.

A gate against our own past, not a comparison: the floors are numbers pinned from a run of
``bench/eval_extraction.py``, and trafilatura is not run here. So a change to the cleaning rules
or a library upgrade that loses text or lets furniture in fails the suite, but whether we still
score above trafilatura (say, after a trafilatura upgrade) only the bench says: it measures
trafilatura and readability on the same pages in the same run, and ``docs/extraction.md``
records its figures.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.eval_extraction import load_pages, ours, overlap, score_pages, shingles

DATA = Path(__file__).parent / "data" / "article-extraction"

# Measured 0.969 (4-shingle F1) and 0.965 (bag-of-words F1) on 2026-11-29 with trafilatura 2.3.1,
# which itself scored 0.960 / 0.955 as the benchmark runs it in that bench run (docs/extraction.md;
# the same figures again on 2026-12-01). The floors sit just under our measurement, and above the
# issue's hard minimum of 0.955; they are not trafilatura's score of today.
SHINGLE_F1_FLOOR = 0.965
BOW_F1_FLOOR = 0.960


@pytest.fixture(scope="module")
def scores():
    pages = load_pages(DATA)
    assert len(pages) == 181
    return score_pages((page.expected, ours(page.html, page.url)) for page in pages)


def test_our_shingle_f1_stays_above_its_pinned_floor_trafilatura_not_run(scores):
    assert scores.shingle_f1 >= SHINGLE_F1_FLOOR, scores


def test_our_bag_of_words_f1_stays_above_its_pinned_floor_trafilatura_not_run(scores):
    assert scores.bow_f1 >= BOW_F1_FLOOR, scores


def test_neither_precision_nor_recall_is_traded_away(scores):
    # A floor on F1 alone would let an extractor that returns whole pages (recall 1.0) pass.
    assert scores.shingle_precision >= 0.95 and scores.shingle_recall >= 0.97, scores


def test_the_metric_counts_shingles_as_the_benchmark_does():
    text = "one two three four five"
    assert shingles(text) == Counter({("one", "two", "three", "four"): 1,
                                      ("two", "three", "four", "five"): 1})
    assert overlap(shingles(text), shingles(text)) == (1.0, 1.0)
    assert overlap(shingles(text), Counter()) == (0.0, 0.0)  # an empty result costs, not vanishes
    assert overlap(shingles("one two three four"), shingles(text)) == (0.5, 1.0)
