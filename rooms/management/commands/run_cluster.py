import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rooms.server.cluster import Cluster


class Command(BaseCommand):
    help = "Serve the platform from several daphne processes behind nginx (needs DATABASE_URL and REDIS_URL)."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=3)
        parser.add_argument("--port", type=int, default=8080)
        parser.add_argument("--janus", type=int, default=2, help="Janus servers to start on loopback (0: none).")
        parser.add_argument("--no-turn", action="store_true", help="Do not start coturn.")

    def handle(self, *args, workers, port, janus, no_turn, **options):
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" or not settings.REDIS_URL:
            raise CommandError("Several processes share PostgreSQL and Redis: set DATABASE_URL and REDIS_URL.")
        cluster = Cluster(workers=workers, port=port, janus=janus, turn=not no_turn)
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
        with cluster:
            self.stdout.write(f"{workers} daphne processes on ports {cluster.worker_ports}, nginx on {cluster.url}")
            if cluster.media is not None:
                for url in cluster.media.started:
                    self.stdout.write(f"Janus {url}")
                if cluster.media.turn is not None:
                    self.stdout.write(f"coturn: {cluster.env['TURN_URLS']}")
                for problem in cluster.media.problems:
                    self.stderr.write(self.style.WARNING(problem))
            try:
                while not stop:
                    for news in cluster.media.ended() if cluster.media is not None else []:
                        self.stderr.write(self.style.WARNING(news))
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
