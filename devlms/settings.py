"""
Settings of the development LMS: a stand-in for the Open edX LMS that serves the plugin.

The plugin is mounted exactly as the LMS mounts it, through edx-django-utils' plugin
framework. The platform itself is replaced by a fake of the plugin's adapter
(``devlms.fake_platform``), which writes real users, profiles and memberships and sends
real (console or SMTP) mail. Database: sqlite, or ``DATABASE_URL`` (e.g. MariaDB).
"""

import json
import os
from pathlib import Path

import dj_database_url
from edx_django_utils.plugins import add_plugins, get_plugin_apps

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DEVLMS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # DEVLMS_VAR_DIR may name a directory not made yet

SECRET_KEY = os.environ.get("DEVLMS_SECRET_KEY", "development-only-secret-key-never-used-in-production")
DEBUG = os.environ.get("DEVLMS_DEBUG", "false").lower() == "true"
ALLOWED_HOSTS = ["*"]
SITE_ID = 1  # the LMS's main site; Tahoe sites are the others
ROOT_URLCONF = "devlms.urls"
USE_TZ = True
TIME_ZONE = "UTC"
# As the LMS: English by default, and some of the languages of lms/envs/common.py's LANGUAGES.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"), ("ar", "Arabic"), ("de-de", "German (Germany)"), ("es-419", "Spanish (Latin America)"),
    ("fr", "French"), ("pt-br", "Portuguese (Brazil)"), ("zh-cn", "Chinese (China)"),
]
LMS_ROOT_URL = f"http://localhost:{os.environ.get('PORT', '8000')}"
# As lms/envs/common.py: the sign-in page, where login_required sends a visitor (with ?next=).
LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/tahoe/api/token/"  # the development LMS's one page for a signed-in user

# As lms/envs/common.py: FEATURES must exist before the plugins' settings run.
FEATURES = {}

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "rest_framework",
    "organizations",
    "devlms",
]
INSTALLED_APPS.extend(get_plugin_apps("lms.djangoapp"))

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # As the LMS: the request's language from Accept-Language (English when it names none of LANGUAGES).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "devlms.middleware.SiteFromHostMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": [
            "django.template.context_processors.request",
            "django.contrib.auth.context_processors.auth",
        ]},
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'devlms.sqlite3'}",
        conn_max_age=0,
    )
}
# The LMS wraps every request in a transaction; the plugin must cope with that.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {}).update({"charset": "utf8mb4"})
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20})
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("DEVLMS_TEST_DB") or None}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "devlms"},
}
if os.environ.get("DEVLMS_CACHE") == "database":
    # A cache that every worker process shares (the LMS uses memcached or redis).
    CACHES["default"] = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "devlms_cache"}

# Outgoing mail: printed to the console, or sent over SMTP when EMAIL_HOST and EMAIL_PORT are set.
if os.environ.get("EMAIL_HOST") and os.environ.get("EMAIL_PORT"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ["EMAIL_PORT"])
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "false").lower() == "true"
elif os.environ.get("DEVLMS_EMAIL_FILE_PATH"):  # tests that count the mail of a live server
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["DEVLMS_EMAIL_FILE_PATH"]
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = "registration@localhost"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"tahoe_registration_api": {"handlers": ["console"], "level": "INFO"}},
}

# Background tasks (the learners' emails, registration jobs): by default, run eagerly in the web
# process after the commit (the tests). `make run` sets DEVLMS_CELERY_WORKER=1: devlms_serve then
# starts a Celery worker beside the server, and tasks reach it through a broker of plain files
# (kombu's filesystem transport; the LMS's broker is Redis), so a job runs while its status is read.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_BROKER_URL = "memory://"
if os.environ.get("DEVLMS_CELERY_WORKER") == "1":
    CELERY_TASK_ALWAYS_EAGER = False
    CELERY_BROKER_URL = "filesystem://"
    _BROKER_DIR = VAR_DIR / "celery-broker"
    for _folder in ("queue", "processed"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"), "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"), "store_processed": False, "polling_interval": 0.2,
    }
# The LMS's HTTPS setting: links in emails of registrations made outside a request use http here.
HTTPS = "off"

# `make bench`: per-process counters of queries, password hashes and memory (devlms/metrics.py).
if os.environ.get("DEVLMS_METRICS_DIR"):
    MIDDLEWARE.insert(0, "devlms.metrics.MetricsMiddleware")
    # Alone: Django verifies with the last hasher of an algorithm, which must be the counting one.
    PASSWORD_HASHERS = ["devlms.metrics.CountingPBKDF2PasswordHasher"]

# As lms/envs/common.py does last: let every installed plugin add its settings.
add_plugins(__name__, "lms.djangoapp", "common")

if os.environ.get("DEVLMS_RATE"):
    TAHOE_REGISTRATION_API_RATE = None if os.environ["DEVLMS_RATE"] == "off" else os.environ["DEVLMS_RATE"]
    if os.environ["DEVLMS_RATE"] == "off":  # `make bench`: no limit of any kind
        TAHOE_REGISTRATION_API_BULK_RATE = TAHOE_REGISTRATION_API_BULK_LEARNER_RATE = None

# The development LMS has no platform: the plugin calls the fake of its adapter.
TAHOE_REGISTRATION_API_ADAPTER = "devlms.fake_platform"
# Operators switch the API on; the development LMS exists to serve it.
TAHOE_REGISTRATION_API_ENABLED = True
# `make run` lets a newcomer point a webhook at a receiver on this machine (http://127.0.0.1:...),
# and says so as it starts. Never in production: any site's admin could reach the LMS's own network.
if os.environ.get("DEVLMS_WEBHOOKS_LOCAL") == "1":
    TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE = True
    TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_HTTP = True

# JWTs as the LMS issues them (edx-drf-extensions' JwtAuthentication checks them): signed with an
# RSA key (a development-only key pair, committed on purpose), plus the legacy symmetric secret.
_DEVELOPMENT_JWK = json.loads((Path(__file__).parent / "development_jwk.json").read_text(encoding="utf-8"))
JWT_AUTH = {
    "JWT_PRIVATE_SIGNING_JWK": json.dumps(_DEVELOPMENT_JWK["private"]),
    "JWT_PUBLIC_SIGNING_JWK_SET": json.dumps(_DEVELOPMENT_JWK["public_set"]),
    "JWT_SIGNING_ALGORITHM": "RS512",
    "JWT_ISSUERS": [
        {
            "ISSUER": "http://127.0.0.1:8000/oauth2",
            "AUDIENCE": "devlms-audience",
            "SECRET_KEY": os.environ.get("DEVLMS_JWT_SECRET", "development-only-jwt-secret"),
        }
    ],
    "JWT_ISSUER": "http://127.0.0.1:8000/oauth2",
    "JWT_AUDIENCE": "devlms-audience",
    "JWT_SECRET_KEY": os.environ.get("DEVLMS_JWT_SECRET", "development-only-jwt-secret"),
    "JWT_ALGORITHM": "HS256",  # the legacy symmetric tokens
    "JWT_VERIFY_EXPIRATION": True,
    "JWT_VERIFY_AUDIENCE": True,
    "JWT_DECODE_HANDLER": "edx_rest_framework_extensions.auth.jwt.decoder.jwt_decode_handler",
    "JWT_AUTH_HEADER_PREFIX": "JWT",
    "JWT_AUTH_COOKIE": "edx-jwt-cookie",
}
