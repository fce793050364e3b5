"""Settings shared by every environment.

Everything that differs between machines comes from the environment; the defaults
are the safe ones (no debug, no open hosts) except where `local.py` relaxes them for a
developer's machine.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# Set when the platform's own reverse proxy (nginx) sits in front: then the client's
# address is taken from X-Forwarded-For, which that proxy sets.
TRUSTED_PROXY = env.bool("TRUSTED_PROXY", default=False)
# allauth's rate limits (failed logins, re-authentication to sign) then count per the
# client's address too, not per the proxy's, which every request would share: the last
# X-Forwarded-For entry, the one the platform's proxy writes (config/nginx/).
ALLAUTH_TRUSTED_PROXY_COUNT = 1 if TRUSTED_PROXY else 0

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "phonenumber_field",
    # Before allauth, so that the platform's templates override allauth's.
    "frontend",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "mediation",
    "rooms",
    "documents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The headers every response carries come next, so that a response from any
    # middleware below (a refused request, a static file) carries them too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before anything reads the path or the query (static files, sessions, views).
    "mediation.middleware.RefuseNullCharactersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mediation.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.context_processors.navigation",
                "frontend.context_processors.large_type",
            ],
        },
    },
]
FORM_RENDERER = "frontend.forms.PlatformFormRenderer"

# Database: embedded SQLite under var/ unless DATABASE_URL names a server.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Kept open by the process's long-lived threads (Channels' database thread, the
    # room writer); an HTTP request's thread ends with the request, and its
    # connections are closed then (mediation.receivers.close_the_requests_connections).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # SQLite serialises writers; waiting beats failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Channels and cache: in-memory unless REDIS_URL names a server.
REDIS_URL = env("REDIS_URL", default="")
# Several hosts: Redis Sentinel finds the current master ("host:port" list and the
# master's name); REDIS_URL must still be set, to switch Redis on and for the cache
# (point it at a name that follows the master, or use the cache of one host).
REDIS_SENTINELS = [
    (host, int(port))
    for host, _sep, port in (entry.rpartition(":") for entry in env.list("REDIS_SENTINELS", default=[]))
]
REDIS_SENTINEL_MASTER = env("REDIS_SENTINEL_MASTER", default="mediation")
# What REDIS_URL says of the master beyond its address (user, password, database,
# TLS) holds for the master Sentinel names; the sentinels may have a password of
# their own.
REDIS_SENTINEL_CONNECTION = {}
REDIS_SENTINEL_PASSWORD = env("REDIS_SENTINEL_PASSWORD", default="")
REDIS_SENTINEL_KWARGS = {"password": REDIS_SENTINEL_PASSWORD} if REDIS_SENTINEL_PASSWORD else {}
if REDIS_URL and REDIS_SENTINELS:
    from redis.connection import parse_url

    REDIS_SENTINEL_CONNECTION = {
        key: value for key, value in parse_url(REDIS_URL).items() if key in ("username", "password", "db") and value
    }
    if REDIS_URL.startswith("rediss://"):
        REDIS_SENTINEL_CONNECTION["ssl"] = True
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "sentinels": REDIS_SENTINELS,
                        "master_name": REDIS_SENTINEL_MASTER,
                        "sentinel_kwargs": REDIS_SENTINEL_KWARGS,
                        **REDIS_SENTINEL_CONNECTION,
                    }
                    if REDIS_SENTINELS
                    else REDIS_URL
                ]
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "mediation",
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "mediation",
        }
    }

AUTH_USER_MODEL = "mediation.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# Accounts: parties sign up (only through an invitation, see mediation.adapters) with
# their mobile number, verified by an SMS code, an optional address and an optional
# password, and sign in with a code texted to that number; staff (created by an
# administrator, always with an address) and parties who have one sign in with an
# address or number and a password, then TOTP where set up. Staff never sign in by
# SMS code alone (CourtAccountAdapter).
ACCOUNT_ADAPTER = "mediation.adapters.CourtAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone*", "email", "password1", "password2"]
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# Codes are made, sent, kept (a keyed hash) and checked by mediation.verification_codes,
# whose limits govern: 5 minutes each, 5 wrong tries each, a new one after 60 s, 5 per
# number and 20 per address an hour. allauth's own counters only end a sign-in that
# has outlived them all: 25 tries (5 codes of 5 tries) in 15 minutes.
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 25
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 15 * 60
ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = 4
ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS = 25
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 15 * 60
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = 4
ACCOUNT_FORMS = {
    "request_login_code": "mediation.account_forms.RequestPhoneLoginCodeForm",
    "confirm_login_code": "mediation.account_forms.ConfirmLoginCodeForm",
    "confirm_reauthentication_code": "mediation.account_forms.ConfirmReauthenticationCodeForm",
    "verify_phone": "mediation.account_forms.VerifyPhoneForm",
    "change_phone": "mediation.account_forms.ChangePhoneForm",
}
ACCOUNT_SIGNUP_FORM_CLASS = "mediation.forms.SignupDetailsForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
# Failed logins are limited per account (key: the address typed in, from anywhere)
# and, more loosely, per client address. A court office sits behind one NAT address:
# five failures against one account lock that account (from every address, so that
# spraying it from many addresses gains nothing), not the office's other users, who
# share the address's budget of 20 failures in 15 minutes, which still stops one
# address from spraying guesses over many accounts (80 an hour at most). The account
# limit comes first: a refused attempt then consumes nothing of the address's budget,
# so one person retrying a locked account does not lock out the office.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/key,20/15m/ip",
    # Re-authenticating to sign an agreement guesses a password as a login does: the
    # same limits, per signer (their account) and per address (documents.reauthentication).
    "sign_reauthentication": "5/5m/user,20/15m/ip",
    "login": "30/m/ip",
    "reset_password": "5/m/ip,3/m/key",
    # SMS codes are limited by mediation.verification_codes, with a message that says
    # when to try again; allauth's counters stay only as a looser backstop.
    "request_login_code": "30/m/ip",
    "verify_phone": "30/m/ip",
    "change_phone": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", default="Court mediation platform")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "frontend" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Case files: content-addressed and served only through views that check rights,
    # so this location has no public URL. Point it at S3-compatible storage with
    # django-storages in a multi-host deployment.
    "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env("DOCUMENT_STORAGE_DIR", default=str(VAR_DIR / "documents")), "base_url": None},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
# Several hosts keep case files in S3-compatible object storage (MinIO, Ceph, a cloud
# bucket) through django-storages: `pip install -r requirements-scale.txt` and set
# DOCUMENT_STORAGE_BUCKET. Files are private (no ACL, signed URLs never handed out:
# they are served through the platform's views) and never overwritten.
if env("DOCUMENT_STORAGE_BUCKET", default=""):
    STORAGES["documents"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("DOCUMENT_STORAGE_BUCKET"),
            "endpoint_url": env("DOCUMENT_STORAGE_ENDPOINT", default=None),
            "access_key": env("DOCUMENT_STORAGE_ACCESS_KEY", default=None),
            "secret_key": env("DOCUMENT_STORAGE_SECRET_KEY", default=None),
            "default_acl": None,
            "file_overwrite": False,
        },
    }

EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "frontend.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Scripts come from the platform only, never inline; styles from the stylesheet.
# connect-src 'self' covers the same-origin WebSockets (CSP Level 3).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "mediation.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "mediation.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Court mediation platform API",
    "DESCRIPTION": "Intake of work orders, their status and outcome, and figures.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Who applies and who the other side is are both "a person or an organisation".
    "ENUM_NAME_OVERRIDES": {
        "PersonOrOrganisationEnum": ["person", "organisation"],
        # An obligation's status and kind (documents.models.performance).
        "ObligationStatusEnum": ["due", "reported", "performed", "disputed", "overdue"],
        "ObligationKindEnum": ["payment", "act"],
        # A work order's status (mediation.models.WorkOrder.Status), beside the obligation's.
        "WorkOrderStatusEnum": "mediation.models.WorkOrder.Status",
    },
}

# The platform's own knobs.
WORK_ORDER_NUMBER_PREFIX = env("WORK_ORDER_NUMBER_PREFIX", default="GD")
# The court's code in case numbers: (2026)京0107民诉前调123号.
COURT_CODE = env("COURT_CODE", default="京0107")
COURT_NAME = env("COURT_NAME", default="北京市石景山区人民法院")
# The seal shown where the platform seals a document (proof of service, agreement): a
# PNG on the server's disk, ideally with a transparent background. Empty: a seal is
# drawn from COURT_NAME (red ring, star, the name around the top).
COURT_SEAL_IMAGE = env("COURT_SEAL_IMAGE", default="")
# How people reach the court: shown on error pages and in every e-mail's signature.
COURT_CONTACT_PHONE = env("COURT_CONTACT_PHONE", default="12368")
COURT_ADDRESS = env("COURT_ADDRESS", default="北京市石景山区人民法院诉讼服务中心")
# Mail is sent in the court's name; the address's domain is the site's unless set.
_SITE_HOST = urlsplit(SITE_URL).hostname or "localhost"
_MAIL_DOMAIN = "localhost" if _SITE_HOST.replace(".", "").isdigit() else _SITE_HOST
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default=f"{COURT_NAME} <noreply@{_MAIL_DOMAIN}>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# allauth's mails (password reset) start their subject with the court's name.
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{COURT_NAME}] "
MEDIATION_DEADLINE_DAYS = env.int("MEDIATION_DEADLINE_DAYS", default=30)
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=7)
# Sessions are reminded this many minutes before they start, each once per person:
# a day before and an hour before (mediation.services.sessions.remind_upcoming_sessions).
SESSION_REMINDER_MINUTES = env.list("SESSION_REMINDER_MINUTES", cast=int, default=[24 * 60, 60])
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=20 * 1024 * 1024)
# Decoding an image costs memory by its pixels (4 bytes each), not its file size: 50
# megapixels is a 48-megapixel phone photo. Pillow's decompression-bomb limit is set
# to the same number (documents.apps).
DOCUMENT_MAX_IMAGE_PIXELS = env.int("DOCUMENT_MAX_IMAGE_PIXELS", default=50_000_000)
# A Word file may unpack to at most this much, whatever its own size.
DOCUMENT_MAX_UNPACKED_BYTES = env.int("DOCUMENT_MAX_UNPACKED_BYTES", default=64 * 1024 * 1024)
# /verify/ is public: what one check may cost (documents.verification). A sealed
# agreement is a few hundred kilobytes with one signature field per signer, one
# revision per signature, the seal and the platform's timestamp.
VERIFY_MAX_BYTES = env.int("VERIFY_MAX_BYTES", default=10 * 1024 * 1024)
VERIFY_MAX_SIGNATURE_FIELDS = env.int("VERIFY_MAX_SIGNATURE_FIELDS", default=64)
VERIFY_MAX_REVISIONS = env.int("VERIFY_MAX_REVISIONS", default=128)
VERIFY_TIME_BUDGET_SECONDS = env.float("VERIFY_TIME_BUDGET_SECONDS", default=10.0)
# Checks per client address (mediation.throttle) in each window.
VERIFY_THROTTLE_REQUESTS = env.int("VERIFY_THROTTLE_REQUESTS", default=10)
VERIFY_THROTTLE_WINDOW_SECONDS = env.int("VERIFY_THROTTLE_WINDOW_SECONDS", default=60)
# /apply/ and /apply/track/ are public: posts per client address (mediation.throttle)
# in each window, besides the limits on SMS codes (mediation.verification_codes).
APPLY_THROTTLE_REQUESTS = env.int("APPLY_THROTTLE_REQUESTS", default=30)
APPLY_THROTTLE_WINDOW_SECONDS = env.int("APPLY_THROTTLE_WINDOW_SECONDS", default=600)
# How long a mobile number proved by a code may follow its requests at /apply/track/.
TRACK_SESSION_SECONDS = env.int("TRACK_SESSION_SECONDS", default=15 * 60)
# Request bodies: past these a request is refused with 413 while it streams in
# (config.body_limit), before Django spools or parses it. The default leaves room for
# a document upload and its form; /verify/ takes one PDF. A reverse proxy in front
# must cap bodies too (nginx's client_max_body_size): daphne reads a whole body first.
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=DOCUMENT_MAX_BYTES + 1024 * 1024)
# The application form holds text only (about 8,000 characters, up to 9 bytes each
# when a browser percent-encodes Chinese); tracking holds a number and a code.
REQUEST_BODY_LIMITS = {
    "/verify/": VERIFY_MAX_BYTES + 256 * 1024,
    "/apply/": 128 * 1024,
    "/apply/track/": 8 * 1024,
    "/api/v1/public/applications/": 128 * 1024,
    "/api/v1/public/verification-codes/": 8 * 1024,
}
# What Django keeps in memory (Django's defaults, set here on purpose): form fields
# beyond this are refused, uploaded files beyond it go to a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 20
SERVICE_ACKNOWLEDGE_DAYS = env.int("SERVICE_ACKNOWLEDGE_DAYS", default=3)
# After an agreement is sealed the joint room stays open this long, then closes.
ROOM_CLOSE_GRACE_MINUTES = env.int("ROOM_CLOSE_GRACE_MINUTES", default=60 * 24)
# Legal documents (agreements, proofs of service) are written in the court's language.
DOCUMENT_LANGUAGE = env("DOCUMENT_LANGUAGE", default="zh-hans")

# Signing keys (documents.pki): PKCS#12 files and their password. `init_pki` makes
# development keys; production points these at the court's own files.
PKI_ORGANISATION = env("PKI_ORGANISATION", default="Court Mediation Platform")
PKI_AUTHORITY_NAME = env("PKI_AUTHORITY_NAME", default="Court Mediation Platform Signing CA")
PKI_PASSWORD = env("PKI_PASSWORD", default="development-only-pki-password")
PKI_DIR = Path(env("PKI_DIR", default=str(VAR_DIR / "pki")))
PKI_AUTHORITY_FILE = env("PKI_AUTHORITY_FILE", default=str(PKI_DIR / "authority.p12"))
PKI_TIMESTAMPING_FILE = env("PKI_TIMESTAMPING_FILE", default=str(PKI_DIR / "timestamping.p12"))
PKI_SEAL_FILE = env("PKI_SEAL_FILE", default=str(PKI_DIR / "seal.p12"))
# The audit chain's key, outside the database (mediation.audit_keys): without it, a
# key derived from SECRET_KEY (`check --deploy` warns). To rotate, move the old key to
# AUDIT_CHAIN_RETIRED_KEYS, so that the entries it keyed still verify.
AUDIT_CHAIN_KEY = env("AUDIT_CHAIN_KEY", default="")
AUDIT_CHAIN_RETIRED_KEYS = env.list("AUDIT_CHAIN_RETIRED_KEYS", default=[])
# Where `anchor_audit` writes the chain's signed checkpoints: somewhere the database's
# administrators cannot write (mediation.audit_anchors).
AUDIT_ANCHOR_DIR = env("AUDIT_ANCHOR_DIR", default=str(VAR_DIR / "audit-anchors"))
# An external RFC 3161 timestamping server; empty means the platform's own TSA key.
TIMESTAMP_URL = env("TIMESTAMP_URL", default="")
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_DELIVER_ON_COMMIT = env.bool("WEBHOOK_DELIVER_ON_COMMIT", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_secrets": {"()": "config.log_filters.RedactSecrets"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Phone numbers are stored in E.164 (mediation.phones); a number typed without its
# country code is read as Chinese.
PHONENUMBER_DEFAULT_REGION = "CN"
PHONENUMBER_DB_FORMAT = "E164"

# Text messages (mediation.sms, docs/sms.md). SMS_BACKEND names the transport as
# EMAIL_BACKEND does: console (prints each message), file (a JSON file per message
# under SMS_FILE_DIR), locmem (tests), aliyun, tencent, or a dotted path. Messages are
# rows first; `deliver_sms` retries the ones a provider did not take, with backoff,
# up to SMS_MAX_ATTEMPTS.
SMS_BACKEND = env("SMS_BACKEND", default="console")
SMS_FILE_DIR = env("SMS_FILE_DIR", default=str(BASE_DIR / "var" / "sms"))
SMS_SEND_IN_BACKGROUND = env.bool("SMS_SEND_IN_BACKGROUND", default=True)
SMS_TIMEOUT_SECONDS = env.int("SMS_TIMEOUT_SECONDS", default=10)
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=8)
# The language of a message to a number with no account behind it.
SMS_DEFAULT_LANGUAGE = env("SMS_DEFAULT_LANGUAGE", default="zh-hans")
# Alibaba Cloud SMS: a RAM user's AccessKey allowed dysms:SendSms, the approved sign
# name, and our template codes mapped to the approved template codes as JSON:
# {"verification_code": "SMS_123456789", ...}.
SMS_ALIYUN_ACCESS_KEY_ID = env("SMS_ALIYUN_ACCESS_KEY_ID", default="")
SMS_ALIYUN_ACCESS_KEY_SECRET = env("SMS_ALIYUN_ACCESS_KEY_SECRET", default="")
SMS_ALIYUN_SIGN_NAME = env("SMS_ALIYUN_SIGN_NAME", default="")
SMS_ALIYUN_ENDPOINT = env("SMS_ALIYUN_ENDPOINT", default="dysmsapi.aliyuncs.com")
SMS_ALIYUN_TEMPLATES = env.json("SMS_ALIYUN_TEMPLATES", default={})
# Tencent Cloud SMS: a CAM SecretId/SecretKey, the SMS application's SdkAppId, the
# approved sign name, and our template codes mapped to the approved template ids with
# the order of their parameters as JSON:
# {"verification_code": {"id": "1234567", "params": ["code", "minutes"]}, ...}.
SMS_TENCENT_SECRET_ID = env("SMS_TENCENT_SECRET_ID", default="")
SMS_TENCENT_SECRET_KEY = env("SMS_TENCENT_SECRET_KEY", default="")
SMS_TENCENT_SDK_APP_ID = env("SMS_TENCENT_SDK_APP_ID", default="")
SMS_TENCENT_SIGN_NAME = env("SMS_TENCENT_SIGN_NAME", default="")
SMS_TENCENT_REGION = env("SMS_TENCENT_REGION", default="ap-guangzhou")
SMS_TENCENT_ENDPOINT = env("SMS_TENCENT_ENDPOINT", default="sms.tencentcloudapi.com")
SMS_TENCENT_TEMPLATES = env.json("SMS_TENCENT_TEMPLATES", default={})
# Delivery receipts (mediation.sms.receipts): the providers push them unsigned, so the
# callback address carries this deployment's secret (a random value of 32+
# characters): https://<host>/sms/receipts/<aliyun|tencent>/<SMS_RECEIPT_TOKEN>/.
# Empty: receipts are refused. A receipt reported longer ago than
# SMS_RECEIPT_MAX_AGE_SECONDS is stale and refused; a body over SMS_RECEIPT_MAX_BYTES
# or with more than SMS_RECEIPT_MAX_COUNT receipts is refused unread.
SMS_RECEIPT_TOKEN = env("SMS_RECEIPT_TOKEN", default="")
SMS_RECEIPT_MAX_AGE_SECONDS = env.int("SMS_RECEIPT_MAX_AGE_SECONDS", default=24 * 60 * 60)
SMS_RECEIPT_MAX_BYTES = env.int("SMS_RECEIPT_MAX_BYTES", default=256 * 1024)
SMS_RECEIPT_MAX_COUNT = env.int("SMS_RECEIPT_MAX_COUNT", default=1000)

# Personal data at rest (mediation.personal_data): Fernet keys, comma-separated, the
# first encrypting and all decrypting (rotate: put a new key first, run
# `rotate_personal_data_keys`, then drop the old one); and the key of the keyed hashes
# that match ID numbers and phones without storing them. Without them, keys derived
# from SECRET_KEY (`check --deploy` warns).
PERSONAL_DATA_KEYS = env.list("PERSONAL_DATA_KEYS", default=[])
PERSONAL_DATA_HASH_KEY = env("PERSONAL_DATA_HASH_KEY", default="")

# Real-name verification (实名, mediation.identity): the adapter, a dotted path like
# allauth's ACCOUNT_ADAPTER. The default records an in-person check of the ID card by
# court staff, with a scan or photo of it as evidence of at most
# IDENTITY_EVIDENCE_MAX_BYTES; a deployment plugs in its provider's adapter here.
IDENTITY_VERIFIER = env("IDENTITY_VERIFIER", default="mediation.identity.InPersonVerifier")
IDENTITY_EVIDENCE_MAX_BYTES = env.int("IDENTITY_EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)

# Audio and video in the rooms (rooms.media, docs/media.md): Janus VideoRoom servers
# (their WebSocket API on loopback or the court's internal network, never the
# internet: browsers reach Janus's API only through the platform's media socket) and
# coturn for parties behind strict NATs. Several servers: each room's media is placed
# on one of them, chosen by the platform and recorded; a stopped one is skipped for
# new rooms. `python manage.py media_config` writes both servers' files from these.
JANUS_SERVERS = env.list("JANUS_SERVERS", default=["ws://127.0.0.1:8188"])
# The secret every request to Janus carries, and the key that lets the platform create
# rooms: derived from SECRET_KEY where not set.
JANUS_API_SECRET = env("JANUS_API_SECRET", default="")
JANUS_ADMIN_KEY = env("JANUS_ADMIN_KEY", default="")
# How long the platform waits for Janus before it says video is unavailable.
JANUS_TIMEOUT_SECONDS = env.float("JANUS_TIMEOUT_SECONDS", default=2.0)
# The UDP ports Janus's media uses (each server of a machine gets its own slice) and
# the address it announces to browsers where it sits behind NAT (empty: its own).
JANUS_RTP_PORT_RANGE = env("JANUS_RTP_PORT_RANGE", default="20000-40000")
JANUS_NAT_1_1_MAPPING = env("JANUS_NAT_1_1_MAPPING", default="")
# Where Janus writes its recordings (.mjr), read back by the platform to process them.
JANUS_RECORDINGS_DIR = env("JANUS_RECORDINGS_DIR", default=str(VAR_DIR / "recordings"))
# How long a media credential (one person, one room) may be used to join.
MEDIA_CREDENTIAL_SECONDS = env.int("MEDIA_CREDENTIAL_SECONDS", default=60)
# TURN (coturn, REST-style time-limited credentials): its URLs as browsers reach it,
# e.g. turn:turn.court.example:3478?transport=udp, and the secret shared with coturn
# (derived from SECRET_KEY where not set). No URLs: browsers use host candidates only.
TURN_URLS = env.list("TURN_URLS", default=[])
TURN_SECRET = env("TURN_SECRET", default="")
TURN_REALM = env("TURN_REALM", default="mediation")
TURN_PORT = env.int("TURN_PORT", default=3478)
TURN_CREDENTIAL_SECONDS = env.int("TURN_CREDENTIAL_SECONDS", default=4 * 60 * 60)
# coturn relays to no private address but the Janus servers' (resolved from
# JANUS_SERVERS, and JANUS_NAT_1_1_MAPPING): more media addresses of theirs here.
TURN_ALLOWED_PEER_IPS = env.list("TURN_ALLOWED_PEER_IPS", default=[])

# Recording (rooms.media.recording, docs/media.md "Recording"): a stopped recording's
# .mjr files are converted with janus-pp-rec and combined into one WebM file, stored as
# a case document. Bounds: the files of one recording (and the result) may not pass
# RECORDING_MAX_BYTES, and each conversion may take RECORDING_CONVERT_SECONDS. The
# files are processed in a thread after the stop (RECORDING_PROCESS_AFTER_STOP);
# `manage.py process_recordings` does it too, and retries what failed.
RECORDING_MAX_BYTES = env.int("RECORDING_MAX_BYTES", default=2 * 1024 * 1024 * 1024)
RECORDING_CONVERT_SECONDS = env.int("RECORDING_CONVERT_SECONDS", default=15 * 60)
RECORDING_PROCESS_AFTER_STOP = env.bool("RECORDING_PROCESS_AFTER_STOP", default=True)
