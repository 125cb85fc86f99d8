"""Wrong "old password" guesses on the password page count like login failures (finding 5)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.support.services import PASSWORD

NEW = "a brand new long passphrase"


def _change(client: Client, old: str) -> Any:
    return client.post(
        "/password/", {"old_password": old, "new_password1": NEW, "new_password2": NEW}, REMOTE_ADDR="10.0.0.9"
    )


@pytest.mark.django_db
def test_ten_wrong_old_passwords_lock_the_change_even_with_the_right_one(client: Client, alice: Any) -> None:
    client.force_login(alice)
    statuses = [_change(client, f"guess {n}").status_code for n in range(10)]
    assert statuses[:4] == [200, 200, 200, 200]
    assert set(statuses[4:]) == {429}
    response = _change(client, PASSWORD)
    assert response.status_code == 429
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert not alice.check_password(NEW)


@pytest.mark.django_db
def test_a_few_wrong_guesses_then_the_right_one_still_changes_the_password(client: Client, alice: Any) -> None:
    client.force_login(alice)
    assert [_change(client, "nope").status_code for _ in range(2)] == [200, 200]
    response = _change(client, PASSWORD)
    assert response["Location"] == "/password/done/"
    alice.refresh_from_db()
    assert alice.check_password(NEW)


@pytest.mark.django_db
def test_the_wrong_old_password_is_named_on_the_form(client: Client, alice: Any) -> None:
    client.force_login(alice)
    response = _change(client, "nope")
    assert response.status_code == 200
    assert b"old password was entered incorrectly" in response.content
