from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = _("Mediation rooms")

    def ready(self):
        from rooms import receivers  # noqa: F401  (connects the signal receivers)

        # Each registers its check of the media rule (and recording, the recording state).
        from rooms.media import moderation, recording  # noqa: F401
