from channels.auth import AuthMiddlewareStack
from django.urls import path

from rooms.auth import SessionUserMiddleware
from rooms.consumers import NotificationConsumer, RoomSocket

ROOM_ROUTE = "ws/rooms/<int:room_id>/"
NOTIFICATIONS_ROUTE = "ws/notifications/"
room_socket = RoomSocket.as_asgi()
notification_socket = NotificationConsumer.as_asgi()

# With scope["user"] given (tests).
websocket_urlpatterns = [
    path(ROOM_ROUTE, room_socket),
    path(NOTIFICATIONS_ROUTE, notification_socket),
]

# As the server serves them: signed in from the session cookie.
signed_in_websocket_urlpatterns = [
    path(ROOM_ROUTE, SessionUserMiddleware(room_socket)),
    path(NOTIFICATIONS_ROUTE, AuthMiddlewareStack(notification_socket)),
]
