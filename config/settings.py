"""Settings for the SEND recovery plan tracker.

One file, driven by environment variables (django-environ). The defaults are
safe for production (DEBUG off, secure cookies); `make run` sets DEBUG and a
throw-away SECRET_KEY for local use. README.md lists every variable.
"""

import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from .release import code_digest

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY: it is required when DEBUG is off.")
    SECRET_KEY = "django-insecure-local-development-only"  # only ever used with DEBUG on
# Earlier keys, still accepted (comma-separated): rotating SECRET_KEY keeps
# sessions, links and two-step secrets (authorities/mfa.py) working.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The address people reach the app at (https://tracker.example.org), from
# which every e-mail builds its links: behind a proxy the request's own host
# may be an internal one. Required when DEBUG is off, like SECRET_KEY.
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
if not SITE_URL and DEBUG:
    SITE_URL = "http://127.0.0.1:8000"  # `make run`'s own address
if not SITE_URL:
    raise ImproperlyConfigured(
        "Set SITE_URL (such as https://tracker.example.org): it is required when DEBUG is "
        "off, as every e-mail's links are built from it."
    )
if not re.fullmatch(r"https?://[^/\s]+", SITE_URL):
    raise ImproperlyConfigured(
        f"SITE_URL must be http:// or https:// and a host, with no path: not {SITE_URL!r}."
    )

INSTALLED_APPS = [
    "config.apps.UnionAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # "Your signed-in sessions" (accounts/sessions/), each one ended by its owner.
    "allauth.usersessions",
    "simple_history",
    "django_filters",
    # The queue of background tasks (e-mails, the daily digest), in the database.
    "django_tasks_db",
    "authorities",
    "plans",
    "consultations",
    "feedback",
    # Official statistics (DfE, MoJ, Ofsted) beside members' reports.
    "official",
    # The top floor: the pages that bring every app's records together.
    "dashboards",
]

MIDDLEWARE = [
    # First, so that its line times everything and counts every query.
    "config.requestlog.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    # Signs a person out after SESSION_IDLE_TIMEOUT(_WIDE_ROLES) without a
    # request, or SESSION_LIFETIME after signing in, saying why.
    "authorities.sessions.SessionTimeoutMiddleware",
    # Sends national and regional roles and staff to set up two-step sign-in.
    "authorities.mfa.MFARequiredMiddleware",
    # Records who made each change kept by django-simple-history.
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]
# Every form field renders through templates/django/forms/field.html, in
# GOV.UK Frontend markup; TemplatesSetting lets the project override Django's.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# Databases. SQLite by default: WAL lets readers run beside a writer, IMMEDIATE
# transactions take the write lock up front (so two writers queue rather than
# deadlock into "database is locked"), and the timeout is how long they queue.
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # psycopg's pool replaces persistent connections (CONN_MAX_AGE must be 0).
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=10),
            "timeout": 10,
        }
        # The planner prices the scoped queries (EXISTS over memberships,
        # OR-ed) above jit_above_cost, and compiling them takes 50 ms or more
        # on queries that run in one: JIT pays for long reports, not pages.
        options = DATABASES["default"]["OPTIONS"]
        options["options"] = " ".join(filter(None, [options.get("options"), "-c jit=off"]))
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Two caches, shared by every worker, so that no number of cached pages can
# push out a security counter. "default" (CACHE_URL) holds what must not be
# lost early: allauth's rate-limit counters (failed logins, MFA codes, password
# resets) and the sessions' cached copies. "pages" (PAGE_CACHE_URL) holds the
# rendered pages and aggregates of authorities/caching.py, which may be dropped
# at any time. Redis for either by redis://… (README.md: its eviction policy).
CACHES = {
    "default": env.cache("CACHE_URL", default="dbcache://django_cache"),
    "pages": env.cache("PAGE_CACHE_URL", default="dbcache://page_cache"),
}
# A database cache past MAX_ENTRIES deletes its expired rows and then a third
# of the live ones, counters included. Live entries in "default" are counters
# (five minutes at most) and sessions (SESSION_LIFETIME), so a million is out
# of reach (over 3,000 new ones a second for five minutes); Django's 300 was not.
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache":
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 1_000_000)
# Its own key prefix, so the two may share one Redis without their keys
# meeting, and the release's, so that a new release never reads what the last
# one stored (config/release.py).
RELEASE = env.str("RELEASE", default="") or code_digest()
CACHES["pages"]["KEY_PREFIX"] = f"{CACHES['pages'].get('KEY_PREFIX', 'pages')}-{RELEASE}"
SESSION_CACHE_ALIAS = "default"

AUTH_USER_MODEL = "authorities.User"
AUTHENTICATION_BACKENDS = ["authorities.backends.AuthenticationBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: e-mail login, no self sign-up (people are invited by a
# national officer), a lockout after repeated failures.
ACCOUNT_ADAPTER = "authorities.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# No verification: a person's address is set by a national officer in the
# admin and nobody changes their own (config/urls.py replaces allauth's
# e-mail page; authorities/adapters.py signs in only User.email). Reopening
# that page with this setting would let a stolen password move the account.
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
# Tell a person by e-mail when their password (or anything else about how
# they sign in) changes: if it was not them, they know to act at once.
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_FORMS = {"login": "authorities.forms.LoginForm"}
ACCOUNT_RATE_LIMITS = {
    # Five failures for one e-mail address in five minutes lock that address
    # out for the rest of those minutes; twenty a minute from one IP address
    # lock out that address. Both show an error on the form.
    "login_failed": "20/m/ip,5/5m/key",
    # Any sign-in attempt past thirty a minute from one IP address gets the
    # 429 page (templates/429.html).
    "login": "30/m/ip",
    # An invitation's link (authorities/invitations.py), opened or posted:
    # as allauth limits its password reset links, then the 429 page.
    "accept_invitation": "20/m/ip",
}

# Two-step sign-in (allauth.mfa): an authenticator app (TOTP) or a security
# key or passkey (WebAuthn), with recovery codes. National and regional roles
# and staff must use it (authorities/mfa.py); anyone may.
MFA_ADAPTER = "authorities.mfa.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = "SEND recovery plan tracker"
# Security keys need https://, or http://localhost, which browsers and allauth
# (fido2) both take as secure: no origin check is relaxed, not even for
# `make run`. No browser offers them on an IP address, so to try one there,
# open http://localhost:8000 rather than 127.0.0.1 (tests/browser use localhost).

# Background tasks (authorities/mail.py, dashboards/digest.py): queued in the
# database, in the transaction of the change that asked for them, and run by
# `manage.py db_worker` (`make run` starts one beside the server). The tests
# run each task as it is queued (TASKS_BACKEND, pyproject.toml).
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}

# E-mail (password reset links): printed to the console unless EMAIL_URL names
# an SMTP server (smtp+tls://user:password@host:587). Django 6.1's MAILERS.
_email = env.email_url("EMAIL_URL", default="consolemail://")
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"]}}
if _email["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend":
    MAILERS["default"]["OPTIONS"] = {
        "host": _email["EMAIL_HOST"],
        "port": _email["EMAIL_PORT"],
        "username": _email["EMAIL_HOST_USER"],
        "password": _email["EMAIL_HOST_PASSWORD"],
        "use_tls": _email.get("EMAIL_USE_TLS", False),
        "use_ssl": _email.get("EMAIL_USE_SSL", False),
        "timeout": 10,
    }
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="tracker@localhost")
# Told when an authority is found to be negotiating a plan (the briefing: "if it
# is negotiating its involvement in the SV programme, then please let us know").
NATIONAL_OFFICE_EMAIL = env.str("NATIONAL_OFFICE_EMAIL", default="national.office@localhost")
# Feedback received longer ago than this is anonymised by `manage.py prune_feedback`
# (free text and submitter cleared, figures kept); withdrawn feedback is deleted.
FEEDBACK_RETENTION_DAYS = env.int("FEEDBACK_RETENTION_DAYS", default=730)
# An invitation's link (authorities/invitations.py) sets a password once,
# within this many days of being sent.
INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATIC_STORAGE", default="whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security. Production values unless DEBUG; each can be set by environment
# where a proxy already does the job (SECURE_SSL_REDIRECT=false, say).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of the app add to X-Forwarded-For (0: none, the
# client is REMOTE_ADDR). allauth's rate limits and the audit trail
# (authorities/audit.py) read the client's address by it alike.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Sessions are read from the cache (Redis in production) and written through
# to the database: one database query less on every page.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# A session ends after this long without a request: 30 minutes for the people
# who see a region or all of England (national officers, regional organisers,
# NEMs: many authorities' members' data on one screen), 2 hours for everyone
# else, who covers one authority and uses the app in meetings that run that
# long. And, however busy, SESSION_LIFETIME after signing in (a working day).
# Enforced by authorities/sessions.py, which says why the person was signed out.
SESSION_IDLE_TIMEOUT_WIDE_ROLES = 60 * env.int("SESSION_IDLE_MINUTES_WIDE_ROLES", default=30)
SESSION_IDLE_TIMEOUT = 60 * env.int("SESSION_IDLE_MINUTES", default=120)
SESSION_LIFETIME = 3600 * env.int("SESSION_LIFETIME_HOURS", default=12)
# Django renews the stored session and its cookie on each save, so they last
# SESSION_LIFETIME from the last recorded activity: the middleware ends the
# session (and says why) before they would.
SESSION_COOKIE_AGE = SESSION_LIFETIME
# allauth's default, stated: changing one's password keeps this browser signed
# in and ends every other session (Django's session hash no longer matches).
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Not tracked on every request (a database write each time); the sessions
# page lists each sign-in with its address and browser.
USERSESSIONS_TRACK_ACTIVITY = False
X_FRAME_OPTIONS = "DENY"
# Browser features the app never uses, refused to it and to anything it might
# embed (config/permissions_policy.py); WebAuthn (passkeys) from our own origin
# only. Cross-Origin-Opener-Policy is Django's default, same-origin.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "autoplay": [],
    "bluetooth": [],
    "camera": [],
    "display-capture": [],
    "encrypted-media": [],
    "fullscreen": [],
    "geolocation": [],
    "gyroscope": [],
    "hid": [],
    "idle-detection": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "picture-in-picture": [],
    "publickey-credentials-create": ["self"],
    "publickey-credentials-get": ["self"],
    "screen-wake-lock": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
}

# Django's built-in Content Security Policy: everything from our own origin, no
# inline script or style, nothing framed.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# One line per request (config/requestlog.py), as JSON with LOG_FORMAT=json;
# 403s and 404s without tracebacks. No record holds an e-mail address or
# feedback text (tests/test_logs.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.requestlog.JsonFormatter"},
    },
    "filters": {"without_tracebacks": {"()": "config.requestlog.WithoutTracebacks"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "loggers": {"django.request": {"filters": ["without_tracebacks"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
