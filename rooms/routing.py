from django.urls import path

from rooms.consumers import NotificationConsumer, RoomSocket

websocket_urlpatterns = [
    path("ws/rooms/<int:room_id>/", RoomSocket.as_asgi()),
    path("ws/notifications/", NotificationConsumer.as_asgi()),
]
