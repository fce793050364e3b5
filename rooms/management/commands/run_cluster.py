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

    def handle(self, *args, workers, port, **options):
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" or not settings.REDIS_URL:
            raise CommandError("Several processes share PostgreSQL and Redis: set DATABASE_URL and REDIS_URL.")
        cluster = Cluster(workers=workers, port=port)
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
        with cluster:
            self.stdout.write(f"{workers} daphne processes on ports {cluster.worker_ports}, nginx on {cluster.url}")
            try:
                while not stop:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
