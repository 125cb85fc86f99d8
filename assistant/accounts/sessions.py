"""Sign-ins that end: the member behind a session, and closing the sockets of sessions that ended.

A member's open pages share one websocket each, all in the member's group. When the owner disables
the member, when the member changes their password, or when they log out in another tab, a
"session.revoked" message goes to that group; each socket whose session it names closes with
CLOSE_SIGNED_OUT, which the page answers by going to the login page. The consumer also re-checks its
session before every action, so a socket that missed the message still does nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import get_user
from django.contrib.auth.models import User
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.db import SessionStore

from assistant.core.events import user_group

# Close code the page understands as "log in again".
CLOSE_SIGNED_OUT = 4401
REVOKED = "session.revoked"

log = logging.getLogger(__name__)


class _SessionHolder:
    """What django.contrib.auth.get_user needs from a request: its session."""

    def __init__(self, session: SessionBase) -> None:
        self.session = session


def session_member_get(*, session_key: str) -> User | None:
    """The active member signed in with this session, or None (unknown, ended, password changed, disabled)."""
    if not session_key or len(session_key) > 64:
        return None
    user = get_user(_SessionHolder(SessionStore(session_key=session_key)))  # type: ignore[arg-type]
    if not user.is_authenticated or not user.is_active:
        return None
    return user if isinstance(user, User) else None


def sessions_revoke(*, user_id: int, session_key: str | None = None, keep_session_key: str | None = None) -> None:
    """Close the member's open sockets: those of one session, or all of them but `keep_session_key`'s.
    Best effort: a socket that misses it is still refused at its next action."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        message = {"type": REVOKED, "session": session_key, "keep": keep_session_key}
        async_to_sync(layer.group_send)(user_group(user_id), message)
    except Exception:  # Redis away: the re-check before each action still holds
        log.warning("could not close the sockets of member %s", user_id, exc_info=True)


def session_is_revoked(*, message: dict[str, Any], session_key: str) -> bool:
    """Whether a "session.revoked" message is meant for a socket of `session_key`."""
    named, kept = message.get("session"), message.get("keep")
    return (named is None or named == session_key) and (kept is None or kept != session_key)
