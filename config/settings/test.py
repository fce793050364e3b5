"""The test suite: fast hashing, local memory, mail kept in an outbox."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-not-secret-4f0c8a"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WEBHOOK_DELIVER_ON_COMMIT = False
# Rate limits are exercised by their own tests, which switch them back on.
ACCOUNT_RATE_LIMITS = False
VERIFY_THROTTLE_REQUESTS = 10_000
APPLY_THROTTLE_REQUESTS = 10_000
LANGUAGE_CODE = env("DJANGO_LANGUAGE_CODE", default="en")
# Static files come straight from the apps (no collectstatic before tests).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Threads of the ASGI tests must not keep connections that block dropping the test
# database. A test that starts a server as a court runs it sets DATABASE_CONN_MAX_AGE.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # Tests need not wait for the disk: each transactional test truncates every table.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"  # noqa: F405
SMS_BACKEND = "locmem"
# A browser journey's server runs in another process: it writes its text messages as
# JSON files into the directory the test reads them from (tests/e2e/conftest.py).
if env("E2E_SMS_DIR", default=""):
    SMS_BACKEND = "file"
    SMS_FILE_DIR = env("E2E_SMS_DIR")
SMS_SEND_IN_BACKGROUND = False
SMS_RECEIPT_TOKEN = "test-sms-receipt-token-0123456789abcdef"
# Tests process a stopped recording's files themselves (no thread after the commit).
RECORDING_PROCESS_AFTER_STOP = False
