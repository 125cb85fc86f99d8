"""The Jobs page is not flooded by chat answers: they are hidden unless asked for (1366x850 and 390x844)."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.models import Job
from tests.support.browser import browser_fixture, web_server_fixture  # noqa: F401
from tests.support.layout import SIZES, assert_no_sideways_scroll, assert_seen, open_at_fixture, screenshot  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", SIZES)
def test_chat_answers_are_hidden_until_the_filter_asks_for_them(alice: Any, open_at: Any, size: str) -> None:
    for n in range(5):
        Job.objects.create(owner=alice, kind="chat", title=f"Answer {n}", status="succeeded", progress=1.0)
    Job.objects.create(owner=alice, kind="selfcheck", title="System check", status="succeeded", progress=1.0)
    page = open_at(alice, "/jobs/", size)

    assert_seen(page, "#jobs-kind")
    assert page.input_value("#jobs-kind") == ""
    titles = page.locator("[data-jobs-list] [data-field='title']")
    assert titles.all_inner_texts() == ["System check"]
    assert page.locator("[data-jobs-list] .job__meta span:empty:not([hidden])").count() == 0  # no stray separators
    screenshot(page, f"jobs-filter-{size}")

    page.select_option("#jobs-kind", "chat")
    page.wait_for_url("**/jobs/?kind=chat")
    assert sorted(titles.all_inner_texts()) == [f"Answer {n}" for n in range(5)]
    page.select_option("#jobs-kind", "all")
    page.wait_for_url("**/jobs/?kind=all")
    assert titles.count() == 6
    assert_no_sideways_scroll(page)
    assert page.problems == []
