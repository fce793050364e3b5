from django.urls import path

from rooms import views
from rooms.media import recording_views
from rooms.media import views as media_views

urlpatterns = [
    path("rooms/<int:room_id>/", views.room_page, name="room"),
    path("rooms/<int:room_id>/media/credential/", media_views.credential, name="media_credential"),
    path("rooms/<int:room_id>/media/people/", media_views.people, name="media_people"),
    path("rooms/<int:room_id>/media/mute/", media_views.moderate, {"action": "mute"}, name="media_mute"),
    path("rooms/<int:room_id>/media/unmute/", media_views.moderate, {"action": "unmute"}, name="media_unmute"),
    path("rooms/<int:room_id>/media/remove/", media_views.moderate, {"action": "remove"}, name="media_remove"),
    path("rooms/<int:room_id>/media/readmit/", media_views.moderate, {"action": "readmit"}, name="media_readmit"),
    path("rooms/<int:room_id>/<slug:action>/", views.room_control, name="room_control"),
    path(
        "rooms/<int:room_id>/media/recording/<slug:action>/",
        recording_views.recording_action,
        name="media_recording",
    ),
]
