"""The signed-in user's notification socket, `ws/notifications/`: desk notices,
invitations, sessions starting, new messages in their cases (rooms.activity)."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from mediation.notifications import render as render_notification
from mediation.notifications import unread_count, user_group_name
from rooms.activity import activity_text
from rooms.language import reader_language
from rooms.protocol import CLOSE_NOT_SIGNED_IN


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    """Pushes the signed-in user's notifications: desk notices, invitations, sessions
    starting, new messages in their cases."""

    async def connect(self):
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(CLOSE_NOT_SIGNED_IN)
            return
        self.group = user_group_name(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "hello", "unread": await database_sync_to_async(unread_count)(user)})

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        await self.send_json({"type": "error", "code": "read_only", "detail": _("This socket only sends.")})

    async def notification_created(self, event):
        user = self.scope["user"]
        language = reader_language(self.scope, user)
        text, unread = await database_sync_to_async(_render_for)(user, language, event["kind"], event.get("params", {}))
        await self.send_json(
            {"type": "notification", "kind": event["kind"], "text": text, "url": event.get("url", ""), "unread": unread}
        )

    async def room_activity(self, event):
        # Worded here, in this user's language, without a query: the announcement
        # costs the same whatever the number of members (rooms.activity).
        user = self.scope["user"]
        kind, case_number = event.get("kind", ""), event.get("case", "")
        with translation.override(reader_language(self.scope, user)):
            text = activity_text(kind, case_number)
        await self.send_json(
            {
                "type": "room.activity",
                "room": event["room"],
                "case": case_number,
                "kind": kind,
                "text": text,
                "url": reverse("room", args=[event["room"]]),
            }
        )


def _render_for(user, language: str, kind: str, params: dict) -> tuple[str, int]:
    with translation.override(language):
        return render_notification(kind, params), unread_count(user)
