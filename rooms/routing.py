from channels.auth import AuthMiddlewareStack
from django.urls import path, re_path

from rooms.auth import SessionUserMiddleware
from rooms.consumers import RoomSocket
from rooms.media.socket import MediaSocket
from rooms.notification_socket import NotificationConsumer

ROOM_ROUTE = "ws/rooms/<int:room_id>/"
NOTIFICATIONS_ROUTE = "ws/notifications/"
MEDIA_ROUTE = "ws/media/<int:room_id>/"
room_socket = RoomSocket.as_asgi()
media_socket = MediaSocket.as_asgi()
notification_socket = NotificationConsumer.as_asgi()


async def refuse_unknown_path(scope, receive, send):
    """A WebSocket handshake on a path the platform does not serve is refused (HTTP
    403, as for a foreign origin), before any session or database is looked at.
    Channels' URLRouter raises for a path no route matches, which daphne logs as an
    error with its traceback and answers with a 500."""
    event = await receive()
    if event["type"] == "websocket.connect":
        await send({"type": "websocket.close"})


# Last: every path no route above matches.
unknown_path = re_path(r"", refuse_unknown_path)

# As the server serves them: signed in from the session cookie.
signed_in_websocket_urlpatterns = [
    path(ROOM_ROUTE, SessionUserMiddleware(room_socket)),
    path(MEDIA_ROUTE, SessionUserMiddleware(media_socket)),
    path(NOTIFICATIONS_ROUTE, AuthMiddlewareStack(notification_socket)),
    unknown_path,
]
