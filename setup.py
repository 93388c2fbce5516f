"""For scrapyd-deploy, which builds the scrapyd egg with ``setup.py bdist_egg``.

Everything is declared in pyproject.toml; without this file scrapyd-deploy writes one of its own
that packages every directory (tests and benchmarks included).
"""

from setuptools import setup

setup()
