from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("Work orders and mediation")

    def ready(self):
        from mediation import receivers  # noqa: F401  (connects the signal receivers)
