"""The household: one owner who sets Hearth up, and the members the owner adds."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from assistant.accounts.sessions import sessions_revoke


class SetupAlreadyDone(Exception):
    pass


def owner_create(*, username: str, password: str) -> User:
    User = get_user_model()
    with transaction.atomic():
        if User.objects.exists():
            raise SetupAlreadyDone
        return User.objects.create_superuser(username=username, password=password)


def member_create(*, username: str, password: str) -> User:
    return get_user_model().objects.create_user(username=username, password=password)


def member_set_active(*, member: User, active: bool) -> None:
    """Disabling a member ends their sessions at the next request and closes their open sockets
    at once; their data stays."""
    if member.is_superuser:
        raise PermissionError("The owner account cannot be disabled.")
    member.is_active = active
    member.save(update_fields=["is_active"])
    if not active:
        sessions_revoke(user_id=member.pk)


def member_password_reset(*, member: User, password: str) -> None:
    """The owner gives a member a new password (already validated); the member's sessions end with the old one."""
    if member.is_superuser:
        raise PermissionError("The owner changes their own password under Settings.")
    member.set_password(password)
    member.save(update_fields=["password"])
    sessions_revoke(user_id=member.pk)


def member_rename(*, member: User, display_name: str) -> User:
    """The name Hearth shows for a member (their username stays what they sign in with)."""
    member.first_name = " ".join(display_name.split())[:150]
    member.save(update_fields=["first_name"])
    return member
