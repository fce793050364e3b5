from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = _("Mediation rooms")

    def ready(self):
        from rooms import receivers  # noqa: F401  (connects the signal receivers)
        from rooms.media import (
            moderation,  # noqa: F401  (registers the media rule's check)
            recording,  # noqa: F401  (its media rule check and recording state)
        )
