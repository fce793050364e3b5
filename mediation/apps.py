from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("Work orders and mediation")

    def ready(self):
        from mediation import (  # noqa: F401  (registers the checks and notices, connects the receivers)
            case_notices,
            checks,
            notices_failure,
            receivers,
        )
        from mediation.sms import checks as sms_checks  # noqa: F401
