from django.urls import path

from rooms import views

urlpatterns = [
    path("rooms/<int:room_id>/", views.room_page, name="room"),
    path("rooms/<int:room_id>/<slug:action>/", views.room_control, name="room_control"),
]
