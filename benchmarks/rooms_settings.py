"""Settings for the server that `benchmarks/rooms.py` measures.

The production defaults of `config.settings.base` (persistent database connections
with health checks, synchronous commit, DEBUG off), with the few values a benchmark on
loopback needs. Unlike `config.settings.test`, which closes the database connection
after every use and turns synchronous commit off, nothing here flatters or handicaps
the server. DATABASE_URL and REDIS_URL come from the environment, as in production.
"""

from config.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "benchmark-only-not-secret-91d3"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# The benchmark serves no static files; the manifest storage would want collectstatic.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {
    **LOGGING,  # noqa: F405
    "root": {"handlers": ["console"], "level": "WARNING"},
}
