"""The roster's pages (issue 20): management under /organisations/ and the public
roster at /mediators/. Included from mediation.urls."""

from django.urls import path

from mediation.views import public_roster, roster

urlpatterns = [
    path("organisations/", roster.organisation_list, name="organisation_list"),
    path("organisations/new/", roster.organisation_new, name="organisation_new"),
    path("organisations/<int:organisation_id>/", roster.organisation_detail, name="organisation_detail"),
    path("organisations/<int:organisation_id>/edit/", roster.organisation_edit, name="organisation_edit"),
    path("organisations/<int:organisation_id>/admins/", roster.organisation_admins, name="organisation_admins"),
    path("organisations/<int:organisation_id>/mediators/new/", roster.mediator_appoint, name="mediator_appoint"),
    path(
        "organisations/mediators/<int:profile_id>/appointment/",
        roster.mediator_appointment_edit,
        name="mediator_appointment_edit",
    ),
    path(
        "organisations/mediators/<int:profile_id>/profile/",
        roster.mediator_profile_edit,
        name="mediator_profile_edit",
    ),
    path("mediators/", public_roster.public_roster, name="public_roster"),
]
