"""The User-Agent names the project and the operator's contact."""

from __future__ import annotations

from scrapy.utils.test import get_crawler

from crawler import settings as project_settings


def crawler_settings(**overrides):
    base = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    crawler = get_crawler(settings_dict={**base, **overrides})
    crawler._apply_settings()
    return crawler.settings


def test_user_agent_names_the_project_and_the_default_contact():
    user_agent = crawler_settings()["USER_AGENT"]
    assert user_agent.startswith("provincial-news-archiver/")
    assert project_settings.CONTACT_URL in user_agent
    assert "{contact_url}" not in user_agent


def test_contact_url_setting_alone_changes_the_user_agent():
    user_agent = crawler_settings(CONTACT_URL="mailto:archive@example.org")["USER_AGENT"]
    assert "(+mailto:archive@example.org;" in user_agent
