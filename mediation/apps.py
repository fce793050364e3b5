from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("Work orders and mediation")

    def ready(self):
        # Registers the checks and the notices of a failed mediation, connects the receivers.
        from mediation import checks, notices_failure, receivers  # noqa: F401
        from mediation.sms import checks as sms_checks  # noqa: F401
