from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from rooms.media.config import write_media_config


class Command(BaseCommand):
    help = "Write Janus's and coturn's configuration from the settings (docs/media.md)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--into", default=str(Path(settings.VAR_DIR) / "media"), help="Folder to write into (default var/media)."
        )
        parser.add_argument("--print-commands", action="store_true", help="Print the command that runs each server.")

    def handle(self, *args, **options):
        servers = write_media_config(Path(options["into"]))
        for server in servers:
            if options["print_commands"]:
                self.stdout.write(" ".join(server.command()))
            else:
                self.stdout.write(f"{server.url}: {server.folder}")
