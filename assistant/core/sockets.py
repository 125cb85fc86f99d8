"""The base of Hearth's websocket consumers: frames checked before any action, sign-ins re-checked.

- A frame that is not JSON, or longer than MESSAGE_MAX_CHARS, is answered with an error event and
  the socket stays open (it used to close with 1011, or drop without a word above 1 MB).
- Every action runs through `member_call`, which first checks the socket's session again (still
  there, same password, member still enabled), in the same trip to the database thread as the action;
  a socket whose sign-in ended closes with CLOSE_SIGNED_OUT, and the page goes to the login page.
- "session.revoked" messages (assistant.accounts.sessions.sessions_revoke) close the sockets of the
  sessions they name at once.

Subclasses join the member's group in connect(), and handle `receive_json` with `member_call`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from assistant.accounts.sessions import CLOSE_SIGNED_OUT, session_is_revoked, session_member_get

# Far more than any message a page sends; the server's own frame limit is higher still (assistant.core.web).
MESSAGE_MAX_CHARS = 256 * 1024

T = TypeVar("T")


class MemberSocket(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels ships no types
    def session_key(self) -> str:
        session = self.scope.get("session")
        return str(getattr(session, "session_key", "") or "")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None:
            await self.send_json({"type": "error", "error": "Send requests as JSON text."})
            return
        if len(text_data) > MESSAGE_MAX_CHARS:
            limit = MESSAGE_MAX_CHARS // 1024
            await self.send_json({"type": "error", "error": f"This message is too long: at most {limit} KB."})
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_json({"type": "error", "error": "Malformed request: not JSON."})
            return
        await self.receive_json(content, **kwargs)

    async def session_revoked(self, message: dict[str, Any]) -> None:
        if session_is_revoked(message=message, session_key=self.session_key()):
            await self.close(code=CLOSE_SIGNED_OUT)

    async def member_call(self, action: Callable[..., T], *args: Any) -> T | None:
        """action(member, *args) in the database thread, once the sign-in is checked there. None, and the
        socket closed, when the sign-in has ended. One trip, not two: a message starts sooner."""
        outcome = await database_sync_to_async(self._as_member)(action, *args)
        if outcome is _SIGNED_OUT:
            await self.close(code=CLOSE_SIGNED_OUT)
            return None
        return cast(T, outcome)

    def _as_member(self, action: Callable[..., T], *args: Any) -> T | object:
        user = self.scope.get("user")
        member = session_member_get(session_key=self.session_key())
        if member is None or user is None or member.pk != user.pk:
            return _SIGNED_OUT
        return action(member, *args)


_SIGNED_OUT = object()
