from django.urls import path

from rooms import api

urlpatterns = [
    path("me/rooms/", api.MyRoomsView.as_view(), name="api_my_rooms"),
    path("rooms/<int:room_id>/entries/", api.RoomHistoryView.as_view(), name="api_room_history"),
]
