"""The websocket a member's open pages share. It only relays: services do the work.

Pages send {"action": ...}; the worker's events come back through the member's group.
"""

from __future__ import annotations

from typing import Any

from assistant.accounts.sessions import CLOSE_SIGNED_OUT
from assistant.chat.services import (
    ChatError,
    message_continue,
    message_get,
    message_payload,
    message_send,
    message_stop,
)
from assistant.chat.versions import message_edit, message_regenerate, message_version_choose
from assistant.core.events import user_group
from assistant.core.http import ID_MAX
from assistant.core.sockets import MemberSocket
from assistant.jobs.services import job_payload
from assistant.models import Job


class EventsConsumer(MemberSocket):
    """Frames are checked by MemberSocket before receive_json runs; each action re-checks the sign-in."""

    group: str = ""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            # Accept first: a close before the handshake reaches the browser as a bare 1006.
            await self.accept()
            await self.close(code=CLOSE_SIGNED_OUT)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        action = content.get("action") if isinstance(content, dict) else None
        handler = self.ACTIONS.get(action) if isinstance(action, str) else None
        if handler is None:
            await self.send_json({"type": "error", "error": "Unknown request."})
            return
        try:
            reply = await self.member_call(handler, content)
        except ChatError as exc:
            reply = {"type": "error", "error": str(exc), "action": action}
        if reply:
            await self.send_json(reply)

    async def relay(self, message: dict[str, Any]) -> None:
        for event in message["events"]:  # what a worker had waiting for this member, in order
            await self.send_json(event)

    @staticmethod
    def _job_get(user: Any, content: dict[str, Any]) -> dict[str, Any]:
        job = Job.objects.owned_by(user).filter(pk=_int(content.get("id"))).first()
        if job is None:
            return {"type": "error", "error": "No such job.", "id": content.get("id")}
        return {"type": "job", "job": job_payload(job)}

    @staticmethod
    def _message_get(user: Any, content: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "chat.message",
            "message": message_payload(message_get(owner=user, message_id=_int(content.get("id")))),
        }

    @staticmethod
    def _chat_send(user: Any, content: dict[str, Any]) -> None:
        images = content.get("images") or []
        if not isinstance(images, list):
            raise ChatError("Malformed request.")
        text = content.get("text")
        message_send(
            owner=user,
            conversation_id=_int(content.get("conversation")),
            text=text if isinstance(text, str) else "",
            image_ids=[_int(i) for i in images],
        )

    @staticmethod
    def _chat_stop(user: Any, content: dict[str, Any]) -> None:
        message_stop(message=message_get(owner=user, message_id=_int(content.get("message"))))

    @staticmethod
    def _chat_regenerate(user: Any, content: dict[str, Any]) -> None:
        message_regenerate(owner=user, message_id=_int(content.get("message")))

    @staticmethod
    def _chat_continue(user: Any, content: dict[str, Any]) -> None:
        message_continue(owner=user, message_id=_int(content.get("message")))

    @staticmethod
    def _chat_edit(user: Any, content: dict[str, Any]) -> None:
        text = content.get("text")
        message_edit(owner=user, message_id=_int(content.get("message")), text=text if isinstance(text, str) else "")

    @staticmethod
    def _chat_version(user: Any, content: dict[str, Any]) -> None:
        message_version_choose(owner=user, message_id=_int(content.get("message")))

    ACTIONS = {
        "job.get": _job_get,
        "message.get": _message_get,
        "chat.send": _chat_send,
        "chat.stop": _chat_stop,
        "chat.regenerate": _chat_regenerate,
        "chat.continue": _chat_continue,
        "chat.edit": _chat_edit,
        "chat.version": _chat_version,
    }


def _int(value: Any) -> int:
    """A row id from a page: a whole number a database can hold, or ChatError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= ID_MAX:
        raise ChatError("Malformed request.")
    return value
