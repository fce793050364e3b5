from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.test.utils import override_settings
from django.utils import translation

from mediation.demo import DEMO_PASSWORD, demo_logins


class Command(BaseCommand):
    help = "Load the demo court, its people and cases. Idempotent: running it again adds nothing."

    # Demo notifications stay in the app; nobody is mailed about made-up orders.
    @override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
    def handle(self, *args, **options):
        # Each app seeds its own part (`<app>.demo.seed`), in INSTALLED_APPS order, so
        # that mediation needs to know nothing of the apps built on it.
        for app_config in apps.get_app_configs():
            try:
                module = import_module(f"{app_config.name}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{app_config.name}.demo":
                    raise
                continue
            module.seed(self.stdout)
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}):")
        with translation.override("en"):
            for email, role in demo_logins():
                self.stdout.write(f"  {email:28} {role}")
