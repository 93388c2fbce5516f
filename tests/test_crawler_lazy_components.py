"""What a crawl does not use is not imported at its start: built-in components the project
switches off (which still switch on), and the libraries of other commands and other backends."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Builds a crawl's extensions and downloader middlewares with the project's settings (and the
# given overrides), then prints their classes and whether their heavy modules were imported.
BUILD = textwrap.dedent("""
    import json, sys
    from scrapy.cmdline import _get_commands_dict
    from scrapy.crawler import Crawler
    from scrapy.core.downloader.middleware import DownloaderMiddlewareManager
    from scrapy.extension import ExtensionManager
    from scrapy.utils.project import get_project_settings
    from scrapy.utils.reactor import install_reactor
    from spiders.baonamdinh import BaoNamDinhSpider

    settings = get_project_settings()
    settings.setdict(json.loads(sys.argv[1]), priority="cmdline")
    _get_commands_dict(settings, True)  # as `scrapy crawl` does: every command module
    install_reactor(settings["TWISTED_REACTOR"])
    crawler = Crawler(BaoNamDinhSpider, settings)
    crawler._apply_settings()
    crawler.spider = crawler._create_spider()
    components = [type(m).__name__ for m in ExtensionManager.from_crawler(crawler).middlewares]
    components += [type(m).__name__
                   for m in DownloaderMiddlewareManager.from_crawler(crawler).middlewares]
    print(json.dumps({"components": components, "modules": sorted(sys.modules)}))
""")


def built(archive: Path, **overrides) -> dict:
    overrides = {"ARCHIVE_DIR": str(archive), "CONTACT_URL": "mailto:archive@example.org",
                 **overrides}
    result = subprocess.run(
        [sys.executable, "-c", BUILD, json.dumps(overrides)], cwd=PROJECT_ROOT,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_switched_off_components_are_not_imported(tmp_path):
    crawl = built(tmp_path)
    assert "CookiesMiddleware" not in crawl["components"]
    assert "RemoteControl" not in crawl["components"]
    assert "WarcCaptureMiddleware" in crawl["components"]  # the project's own are all there
    # ~0.5 s of CPU at every crawl's start when they were (docs/scale.md).
    unused = {"aiohttp", "tldextract", "trafilatura", "psycopg", "redis", "scrapy_redis", "bs4",
              "wacz", "cdxj_indexer", "pyarrow", "datasette"}
    assert unused.isdisjoint(crawl["modules"])


@pytest.mark.parametrize("setting, component", [
    ("COOKIES_ENABLED", "CookiesMiddleware"),
    ("REMOTE_CONTROL_ENABLED", "RemoteControl"),
])
def test_a_setting_switches_scrapys_component_on_as_before(tmp_path, setting, component):
    assert component in built(tmp_path, **{setting: True})["components"]
