from django.urls import path

from rooms import views
from rooms.media import recording_views

urlpatterns = [
    path("rooms/<int:room_id>/", views.room_page, name="room"),
    path("rooms/<int:room_id>/<slug:action>/", views.room_control, name="room_control"),
    path(
        "rooms/<int:room_id>/media/recording/<slug:action>/",
        recording_views.recording_action,
        name="media_recording",
    ),
]
