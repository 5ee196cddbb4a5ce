"""The crawl's User-Agent names a way to reach its operator (issue 19): CONTACT."""
from __future__ import annotations

from scrapy.settings import Settings

from docket_spider import settings as project_settings
from docket_spider.contact import Contact, user_agent


def settings_with(**cmdline) -> Settings:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    for name, value in cmdline.items():
        settings.set(name, value, priority="cmdline")
    Contact().update_settings(settings)
    return settings


def test_the_user_agent_names_the_contact():
    assert user_agent("press@example.org").endswith("(+mailto:press@example.org)")
    assert user_agent("https://example.org/about").endswith("(+https://example.org/about)")
    assert user_agent("").startswith("docket-archive/") and "(" not in user_agent("")
    ua = settings_with(CONTACT="press@example.org")["USER_AGENT"]
    assert ua.startswith("docket-archive/") and ua.endswith("(+mailto:press@example.org)")
    assert "github.com/docket-archive" not in settings_with()["USER_AGENT"]  # no placeholder


def test_a_user_agent_set_by_hand_wins():
    assert settings_with(CONTACT="a@b.org", USER_AGENT="MyNewsroomBot/1")["USER_AGENT"] == \
        "MyNewsroomBot/1"
