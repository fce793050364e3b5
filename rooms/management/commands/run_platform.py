"""`make run`'s server: the media servers of this machine beside daphne, all stopped
together (rooms.server.media)."""

import argparse
import contextlib
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rooms.server.media import MediaServers


class Command(BaseCommand):
    help = (
        "Serve the platform: this machine's Janus servers (and coturn where TURN_URLS is set) beside daphne. "
        "Arguments after -- go to daphne."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--into", default=str(Path(settings.VAR_DIR) / "media"), help="Folder of the media servers' files and logs."
        )
        parser.add_argument("--no-media", action="store_true", help="Serve without starting Janus or coturn.")
        parser.add_argument("daphne_args", nargs=argparse.REMAINDER, help="daphne's arguments (after --).")

    def handle(self, *args, into, no_media, daphne_args, **options):
        daphne_args = [arg for arg in daphne_args if arg != "--"] or ["config.asgi:application"]
        media = MediaServers(Path(into), settings.JANUS_SERVERS, turn_port=turn_port())
        daphne = None
        try:
            if not no_media:
                self.start_media(media, into)
            try:
                daphne = subprocess.Popen([str(Path(sys.executable).with_name("daphne")), *daphne_args])
            except OSError as error:
                raise CommandError(f"daphne did not start: {error}") from error
            # SIGTERM (a service manager) ends daphne (Twisted stops on it as on Ctrl-C,
            # and a background job ignores SIGINT), then the media servers.
            signal.signal(signal.SIGTERM, lambda *_: daphne.send_signal(signal.SIGTERM))
            while daphne.poll() is None:
                for news in media.ended():
                    self.stderr.write(self.style.WARNING(news))
                with contextlib.suppress(subprocess.TimeoutExpired):
                    daphne.wait(timeout=1)
        except KeyboardInterrupt:
            # The terminal sent Ctrl-C to daphne too (same process group): let it finish.
            if daphne is not None:
                try:
                    daphne.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    daphne.kill()
                    daphne.wait()
        finally:
            media.stop()
        if daphne is not None and daphne.returncode not in (0, -signal.SIGINT, -signal.SIGTERM):
            raise CommandError(f"daphne ended with {daphne.returncode}")

    def start_media(self, media: MediaServers, into: str) -> None:
        media.start()
        for url in media.started:
            self.stdout.write(f"Janus {url} (files and log in {into})")
        for url in media.elsewhere:
            self.stdout.write(f"Janus {url} runs on another machine (docs/media.md, Beyond one machine)")
        if media.turn is not None:
            self.stdout.write(f"coturn on port {media.turn_port} for {', '.join(settings.TURN_URLS)}")
        for problem in media.problems:
            self.stderr.write(self.style.WARNING(problem))


def turn_port() -> int | None:
    """coturn runs beside the platform only where browsers are told of it (TURN_URLS):
    on a developer's machine the browser and Janus share loopback, and a relay adds
    nothing (coturn refuses loopback peers anyway)."""
    return settings.TURN_PORT if settings.TURN_URLS else None
