from django.core.management.base import BaseCommand, CommandError

from mediation.models import ApiToken
from mediation.services.api_tokens import create_api_token


class Command(BaseCommand):
    help = "Create a bearer token for an integration system (hotline, WeChat) and print it once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A short name of the calling system, e.g. hotline-12368")

    def handle(self, *args, name, **options):
        if ApiToken.objects.filter(name=name).exists():
            raise CommandError(f"A token named {name!r} exists already; choose another name.")
        _token, raw = create_api_token(name=name)
        self.stdout.write(raw)
