"""The base of Hearth's websocket consumers: frames checked before any action, sign-ins re-checked.

- A frame that is not JSON, or longer than MESSAGE_MAX_CHARS, is answered with an error event and
  the socket stays open (it used to close with 1011, or drop without a word above 1 MB).
- Before every action the socket's session is checked again (still there, same password, member
  still enabled); a socket whose sign-in ended closes with CLOSE_SIGNED_OUT, and the page goes to
  the login page.
- "session.revoked" messages (assistant.accounts.sessions.sessions_revoke) close the sockets of the
  sessions they name at once.

Subclasses join the member's group in connect() and handle `receive_json` as before.
"""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from assistant.accounts.sessions import CLOSE_SIGNED_OUT, session_is_revoked, session_member_get

# Far more than any message a page sends; the server's own frame limit is higher still (assistant.core.web).
MESSAGE_MAX_CHARS = 256 * 1024


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
        if not await self._still_signed_in():
            await self.close(code=CLOSE_SIGNED_OUT)
            return
        await self.receive_json(content, **kwargs)

    async def session_revoked(self, message: dict[str, Any]) -> None:
        if session_is_revoked(message=message, session_key=self.session_key()):
            await self.close(code=CLOSE_SIGNED_OUT)

    async def _still_signed_in(self) -> bool:
        user = self.scope.get("user")
        member = await database_sync_to_async(session_member_get)(session_key=self.session_key())
        return member is not None and user is not None and member.pk == user.pk
