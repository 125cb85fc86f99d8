"""The owner resets a member's password from the Household page, and members rename themselves
(issue 12, item 6), in Chromium at 1366x850 and 390x844."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import browser_fixture, web_server_fixture  # noqa: F401
from tests.support.layout import SIZES, assert_no_sideways_scroll, assert_seen, open_at_fixture, screenshot  # noqa: F401
from tests.support.services import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW_PASSWORD = "a kettle on the hob 42"


def _password_is(member: Any, password: str) -> bool:
    member.refresh_from_db()
    return bool(member.check_password(password))


@pytest.mark.parametrize("size", SIZES)
def test_the_owner_resets_a_members_password(olivia: Any, alice: Any, open_at: Any, size: str) -> None:
    page = open_at(olivia, "/household/", size)
    reset = f"a[href='/household/{alice.pk}/password/']"
    assert_seen(page, reset, fits=True)
    assert_no_sideways_scroll(page)
    screenshot(page, f"household-reset-{size}")
    page.click(reset)
    page.wait_for_url(f"**/household/{alice.pk}/password/")

    page.fill("input[name='new_password1']", NEW_PASSWORD)
    page.fill("input[name='new_password2']", NEW_PASSWORD + "!")
    page.click("main button[type='submit']")
    assert_seen(page, ".field__errors")  # the two do not match: said, nothing changed
    assert "didn" in page.inner_text(".field__errors")
    assert _password_is(alice, PASSWORD)

    page.fill("input[name='new_password1']", NEW_PASSWORD)
    page.fill("input[name='new_password2']", NEW_PASSWORD)
    page.click("main button[type='submit']")
    page.wait_for_url("**/household/")
    assert "alice's password was reset" in page.inner_text("main")
    assert _password_is(alice, NEW_PASSWORD)
    assert page.locator(f"a[href='/household/{olivia.pk}/password/']").count() == 0  # not for the owner
    assert page.problems == []


@pytest.mark.parametrize("size", SIZES)
def test_a_member_renames_themselves(alice: Any, open_at: Any, size: str) -> None:
    page = open_at(alice, "/settings/", size)
    assert_seen(page, "#display-name")
    page.fill("#display-name", "  Alice   Martin ")
    page.click("text=Save name")
    page.wait_for_url("**/settings/")

    assert page.input_value("#display-name") == "Alice Martin"
    assert "Hearth now calls you Alice Martin." in page.inner_text("main")
    if size == "phone":
        page.click("[data-nav-toggle]")
    assert_seen(page, ".account__name", scroll=False)
    assert page.inner_text(".account__name") == "Alice Martin"
    alice.refresh_from_db()
    assert (alice.first_name, alice.username) == ("Alice Martin", "alice")  # she still signs in as alice
    screenshot(page, f"settings-name-{size}")
    assert page.problems == []
