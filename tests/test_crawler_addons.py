"""The User-Agent names the project and the operator's contact."""

from __future__ import annotations

from scrapy.utils.test import get_crawler

from crawler import settings as project_settings


def crawler_settings(**overrides):
    base = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    crawler = get_crawler(settings_dict={**base, **overrides})
    crawler._apply_settings()
    return crawler.settings


def test_there_is_no_default_contact_and_the_user_agent_then_names_the_project_only():
    # The old default named a repository that does not exist: portals wrote to nobody.
    assert project_settings.CONTACT_URL == ""
    user_agent = crawler_settings()["USER_AGENT"]
    assert user_agent == "provincial-news-archiver/0.1 (news archiving for research)"


def test_contact_url_setting_alone_changes_the_user_agent():
    user_agent = crawler_settings(CONTACT_URL="mailto:archive@example.org")["USER_AGENT"]
    assert "(+mailto:archive@example.org;" in user_agent
