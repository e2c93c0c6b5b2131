"""ImageSim settings, read from the environment (see README, "Configuration").

The embedded default needs no configuration at all: SQLite in the project folder,
an in-memory channel layer and a local media folder. Every scale-out part is
switched on by an environment variable.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from core.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_str,
    local_model,
    s3_storage_from_env,
    secret_key_read,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", "false")

_INSECURE_KEY = "django-insecure-imagesim-development-only-never-in-production"
# bin/serve makes a key once in var/secret_key (mode 0600); every management command
# run from any shell reads it from there when SECRET_KEY is unset, so the two agree.
SECRET_KEY_FILE = Path(env_str("SECRET_KEY_FILE") or BASE_DIR / "var" / "secret_key")
SECRET_KEY = env_str("SECRET_KEY") or secret_key_read(SECRET_KEY_FILE) or (
    _INSECURE_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value when DEBUG is off: run bin/serve "
        f"once (it makes one in {SECRET_KEY_FILE}), or set SECRET_KEY."
    )
# Django's deployment check asks for at least 50 characters (and 5 different ones).
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        f"SECRET_KEY is too short or too simple ({len(SECRET_KEY)} characters): use at least 50 "
        "random characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'.")

# Where bin/serve listens (daphne -b): beyond loopback, the first administrator of a new
# install needs the setup code printed on the console (accounts/setup.py).
SERVER_HOST = env_str("HOST", "127.0.0.1")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "rest_framework_api_key",
    "axes",
    "accounts",
    "gallery",
    "features",
    "search",
    "labels",
    "duplicates",
    "web",
    "deploy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before sessions and authentication: a body over the limit is refused unread (413).
    "core.body_size.BodySizeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "imagesim.urls"
WSGI_APPLICATION = "imagesim.wsgi.application"
ASGI_APPLICATION = "imagesim.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: a SQLite file by default; DATABASE_URL (postgres://...) for scale-out.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend, with connections kept for the next request (core/sqlite).
    DATABASES["default"]["ENGINE"] = "core.sqlite"
    # WAL lets readers go on while the feature worker writes; the busy timeout
    # makes concurrent writers wait for each other instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Access control (accounts/rules.py holds the rules). "none": anonymous visitors see only
# the sign-in page; "read": they may also browse and search, never change anything.
ANONYMOUS_ACCESS = env_choice("ANONYMOUS_ACCESS", "none", ("none", "read"))
LOGIN_URL = "sign-in"
LOGIN_REDIRECT_URL = "index"
LOGOUT_REDIRECT_URL = "sign-in"
AUTHENTICATION_BACKENDS = [
    # django-axes refuses a locked-out account before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Reads permissions (never signs in): one query where ModelBackend takes two.
    "accounts.backends.PermissionsInOneQuery",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in brute force: after AXES_FAILURE_LIMIT wrong passwords for one account from one
# address, that account's sign-in from that address is refused (even with the right
# password) for the cool-off time. Counting the account alone would let anyone anywhere
# keep an administrator locked out; counting the address alone would let people behind
# one office address lock each other out.
AXES_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGN_IN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# The proxy's X-Forwarded-For is trusted only behind one (TRUSTED_PROXIES, below).
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files are served by WhiteNoise, so the app needs no web server in front of it.
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")

# Media: the image library itself (full images and thumbnails), through the storage API.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
# "local": the MEDIA_ROOT folder. "s3": a private bucket of S3 or any S3-compatible store
# (django-storages), shared by every web and worker process; files are still served
# through ImageSim's URLs (and its access rules), never from a public bucket.
MEDIA_STORAGE = env_choice("MEDIA_STORAGE", "local", ("local", "s3"))
if MEDIA_STORAGE == "s3":
    MEDIA_STORAGE_BACKEND = s3_storage_from_env()
else:
    MEDIA_STORAGE_BACKEND = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": MEDIA_STORAGE_BACKEND,
    "staticfiles": {
        "BACKEND": (
            "core.storage.StaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Upload limits.
IMAGESIM_MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_MB", 16) * 1024 * 1024
IMAGESIM_MAX_IMAGE_PIXELS = env_int("MAX_IMAGE_PIXELS", 50_000_000)
IMAGESIM_MAX_FILES_PER_UPLOAD = env_int("MAX_FILES_PER_UPLOAD", 100)
# Days a deleted upload waits in the trash before the daily purge frees its files.
TRASH_DAYS = env_int("TRASH_DAYS", 30)
if TRASH_DAYS < 0:
    raise ImproperlyConfigured(f"TRASH_DAYS must be 0 or more days, not {TRASH_DAYS}")
IMAGESIM_THUMBNAIL_SIZE = 200
IMAGESIM_THUMBNAIL_QUALITY = 75
# Django refuses request bodies over DATA_UPLOAD_MAX_MEMORY_SIZE only for non-file
# data; file parts stream to disk above FILE_UPLOAD_MAX_MEMORY_SIZE. core/body_size.py
# refuses (413) any body that is not multipart over DATA_UPLOAD_MAX_MEMORY_SIZE, and a
# multipart one over MAX_UPLOAD_MB x MAX_FILES_PER_UPLOAD, before it is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # Django's own default, 2.5 MB
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = IMAGESIM_MAX_FILES_PER_UPLOAD

# Feature extraction.
FEATURE_EXTRACTOR = env_str("FEATURE_EXTRACTOR", "features.extractors.resnet50.ResNet50Extractor")
# One of the extractor's presets (features/extractors/presets.py for ResNet50: resnet50-gem,
# resnet50-gap); empty means the extractor's default (resnet50-gem).
FEATURE_PRESET = env_str("FEATURE_PRESET", "").strip().lower()
# The preset of FEATURE_EXTRACTOR that makes the original app's vectors (manage.py
# import_original_app reuses them for it); not read from the environment.
ORIGINAL_APP_PRESET = "resnet50-gap"
# Model files kept beside the project, for machines without internet: the weights and
# the classifier below default to these when they are there and the variable is unset,
# so bin/serve, bin/test and every manage.py command in any shell use the same files.
LOCAL_MODELS = BASE_DIR.parent / "shared" / "models"
# "imagenet" lets Keras download and cache the weights; a path loads a local .h5 file.
FEATURE_WEIGHTS = env_str("FEATURE_WEIGHTS") or local_model(
    LOCAL_MODELS / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5")
# "auto" uses bfloat16 only where the hardware runs it natively.
FEATURE_PRECISION = env_choice("FEATURE_PRECISION", "auto", ("auto", "float32", "bfloat16"))
FEATURE_BATCH_SIZE = env_int("FEATURE_BATCH_SIZE", 16)
# What runs the model: "openvino" (CPUs; several times faster there, and quick to start)
# or "tensorflow" (NVIDIA GPUs).
FEATURE_RUNTIME = env_choice("FEATURE_RUNTIME", "openvino", ("openvino", "tensorflow"))
# Where the model converted for OpenVINO is kept (once per machine; about 100 MB).
FEATURE_MODEL_CACHE = Path(env_str("FEATURE_MODEL_CACHE") or BASE_DIR / "var" / "models")
# The embedded worker runs inside the web process; turn it off when featureworker
# processes do the extraction.
# bin/serve's web processes are numbered from 0 (imagesim/serve.py): the first alone runs
# the embedded worker; the others relay its progress from the database (features/jobs/relay.py).
WEB_PROCESS_INDEX = env_int("WEB_PROCESS_INDEX", 0)
FEATURE_EMBEDDED_WORKER = env_bool("FEATURE_EMBEDDED_WORKER", "true") and WEB_PROCESS_INDEX == 0
# Load the model when a web or worker process starts, in the background, so the first
# search or batch does not wait for it.
FEATURE_WARM_UP = env_bool("FEATURE_WARM_UP", "true")
# Threads that read and decode images while the model runs the previous batch.
FEATURE_DECODE_THREADS = env_int("FEATURE_DECODE_THREADS", 2)
# A claim older than this (seconds) belongs to a dead worker; its images are redone.
FEATURE_CLAIM_TIMEOUT = env_int("FEATURE_CLAIM_TIMEOUT", 120)
# How often an idle featureworker looks for new work (seconds).
FEATURE_POLL_SECONDS = env_int("FEATURE_POLL_SECONDS", 2)
# While images wait for extraction, the stages after it (augmentation, duplicates, labels,
# the index snapshots) take at most this share of the worker's time; the rest of their
# work is done when extraction is idle. 1: they keep up after every batch; 0: they wait
# for it to be idle. (The index snapshot's writer thread runs beside this, uncounted.)
# A tenth extracted 6% to 16% faster than a quarter at a million photos, every stage done
# within the runs' spread (README, "Import and feature generation into a million").
FEATURE_STAGES_SHARE = env_float("FEATURE_STAGES_SHARE", 0.1)
if not 0.0 <= FEATURE_STAGES_SHARE <= 1.0:
    raise ImproperlyConfigured("FEATURE_STAGES_SHARE must be from 0 to 1")
# The shipped originals (the demo library) and their precomputed vectors (manage.py
# precompute_originals). DEMO_ORIGINALS=false: seed_originals (bin/serve) leaves them out.
DEMO_ORIGINALS = env_bool("DEMO_ORIGINALS", "true")
FEATURE_ORIGINALS_DIR = Path(env_str("FEATURE_ORIGINALS_DIR") or BASE_DIR / "fixtures" / "originals")
FEATURE_ORIGINALS_FILE = Path(
    env_str("FEATURE_ORIGINALS_FILE") or BASE_DIR / "fixtures" / "original_features.npz"
)

# Labels: the ImageNet classifier layer applied to the stored vectors (labels/).
# "imagenet" lets Keras download its own; paths load a local .npz (kernel, bias) and
# Keras' imagenet_class_index.json; "off" (either) makes no labels.
LABEL_HEAD_WEIGHTS = env_str("LABEL_HEAD_WEIGHTS") or local_model(
    LOCAL_MODELS / "resnet50_imagenet_head.npz")
LABEL_CLASS_INDEX = env_str("LABEL_CLASS_INDEX") or local_model(
    LOCAL_MODELS / "imagenet_class_index.json")
LABEL_TOP_K = env_int("LABEL_TOP_K", 5)

# Search.
SEARCH_DEFAULT_K = 6
SEARCH_MAX_K = 100
# HNSW breadth (pgvector): 160 gives recall@6 >= 0.99 against exact search on 100k
# 2048-d vectors (bench/search.py); the search raises it to k when k is larger.
SEARCH_HNSW_EF_SEARCH = env_int("SEARCH_HNSW_EF_SEARCH", 160)
# Threads one exact scan is split over (0: one per CPU core).
SEARCH_SCAN_THREADS = env_int("SEARCH_SCAN_THREADS", 0)
# Requests one web process runs Django code for at once; more wait their turn on the event
# loop (imagesim/handlers.py). Room for a search's model run or two beside the rest.
WEB_CONCURRENT_REQUESTS = max(1, env_int("WEB_CONCURRENT_REQUESTS", 4))
# The in-process index on SQLite (search/index/): "exact" scans every vector;
# "approximate" searches the machine's snapshot (written by the feature worker, shared
# memory-mapped by every process) plus the vectors written since, exactly; "auto" is
# exact until the library reaches SEARCH_INDEX_AUTO_SIZE vectors, then approximate.
SEARCH_INDEX = env_choice("SEARCH_INDEX", "auto", ("auto", "exact", "approximate"))
SEARCH_INDEX_AUTO_SIZE = env_int("SEARCH_INDEX_AUTO_SIZE", 200_000)
# Where the snapshots are kept: beside the SQLite file unless set.
SEARCH_INDEX_DIR = Path(env_str("SEARCH_INDEX_DIR") or f"{DATABASES['default']['NAME']}-index")
# IVF lists probed per search (bench/million.py: recall@6 against the exact index).
SEARCH_APPROXIMATE_PROBES = env_int("SEARCH_APPROXIMATE_PROBES", 32)
# Load the model and the index in the background as the server starts, so the first
# search by upload is as fast as the next ones.
SEARCH_WARM_UP = env_bool("SEARCH_WARM_UP", "true")
# Re-ranking (search/reranking.py). Database-side augmentation: each stored vector
# blended with its nearest others (kept up to date by the feature worker); query
# expansion: the query blended with its first hits, then searched again. Both on by
# default: on the dev set they lift mAP from 0.47 to 0.55 (manage.py evaluate).
SEARCH_AUGMENT = env_bool("SEARCH_AUGMENT", "true")
SEARCH_AUGMENT_NEIGHBOURS = env_int("SEARCH_AUGMENT_NEIGHBOURS", 4)
SEARCH_QUERY_EXPANSION = env_bool("SEARCH_QUERY_EXPANSION", "true")
SEARCH_EXPANSION_NEIGHBOURS = env_int("SEARCH_EXPANSION_NEIGHBOURS", 3)
# Neighbours (and a query's first hits) less alike than this are not blended: in a small
# or mixed library they are often of another kind. On the dev set (10 garment kinds) a
# photo's 4 nearest others are 0.59 to 0.75 alike (1st to 75th percentile), photos of
# two different kinds 0.47 to 0.64 (5th to 95th); up to 0.55 no dev-set figure changes.
SEARCH_BLEND_FLOOR = env_float("SEARCH_BLEND_FLOOR", 0.55)
if not 0.0 <= SEARCH_BLEND_FLOOR <= 1.0:
    raise ImproperlyConfigured("SEARCH_BLEND_FLOOR must be a number from 0 to 1")
for _name in ("SEARCH_AUGMENT_NEIGHBOURS", "SEARCH_EXPANSION_NEIGHBOURS"):
    if not 1 <= globals()[_name] <= 50:
        raise ImproperlyConfigured(f"{_name} must be a whole number from 1 to 50")

# Duplicates (duplicates/): pairs of images whose plain vectors are at least
# DUPLICATE_FLOOR alike are stored; groups are formed at DUPLICATE_THRESHOLD unless a
# request asks for another (from the floor to 1). The default is calibrated by
# bench/duplicates.py: the lowest threshold with pair precision >= 0.98 on transformed
# dev-set copies against other photos of the same garment kinds.
DUPLICATE_FLOOR = env_float("DUPLICATE_FLOOR", 0.80)
DUPLICATE_THRESHOLD = env_float("DUPLICATE_THRESHOLD", 0.85)
# Pairs the vectors leave in doubt have their thumbnails matched (one found inside the
# other); a match at least this good makes the pair a copy (above 1: never).
DUPLICATE_MATCH = env_float("DUPLICATE_MATCH", 0.90)
# Images whose perceptual hashes (duplicates/hashing.py) are at most this many bits apart
# (of 64) are copies, whatever their vectors say; -1: never.
DUPLICATE_HASH_DISTANCE = env_int("DUPLICATE_HASH_DISTANCE", 4)
if not -1 <= DUPLICATE_HASH_DISTANCE <= 12:
    raise ImproperlyConfigured("DUPLICATE_HASH_DISTANCE must be a whole number from -1 to 12")
if not 0.0 < DUPLICATE_FLOOR <= DUPLICATE_THRESHOLD <= 1.0:
    raise ImproperlyConfigured("DUPLICATE_THRESHOLD must be from DUPLICATE_FLOOR to 1, and "
                               "DUPLICATE_FLOOR above 0")

# The cache holds rate-limit counters, which every process of a server must share (bin/serve
# runs several, imagesim/serve.py): SQLite files (diskcache) in a folder beside the
# database by default, Redis when REDIS_URL is set.
_sqlite_file = DATABASES["default"]["ENGINE"] == "core.sqlite" and DATABASES["default"]["NAME"] != ":memory:"
CACHE_DIR = Path(env_str("CACHE_DIR") or (f"{DATABASES['default']['NAME']}-cache" if _sqlite_file
                                          else BASE_DIR / "var" / "cache"))
CACHES = {"default": {
    "BACKEND": "diskcache.DjangoCache",
    "LOCATION": str(CACHE_DIR),
    # How long a write waits for another process's (then it is skipped: a limit's count).
    "DATABASE_TIMEOUT": 0.1,
    "OPTIONS": {"size_limit": 64 * 2**20},
}}

# Channels: in-memory by default, Redis when REDIS_URL is set.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{
                "address": REDIS_URL,
                # A consumer waits for messages with a 5-second blocking pop; redis-py's own
                # 5-second socket timeout would end that wait with an error and drop the
                # websocket. Reads may take longer than the pop; a dead server is still
                # noticed (keepalive, and the pop returning late).
                "socket_timeout": 30,
                "socket_connect_timeout": 5,
                "socket_keepalive": True,
                "health_check_interval": 15,
            }]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}

# Security headers. The page loads nothing from elsewhere and runs no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
X_FRAME_OPTIONS = "DENY"
# Django's own page for a refused form has an inline style: ImageSim's page has none.
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
# HTTPS=true: ImageSim is served over HTTPS (usually by a proxy that sets
# X-Forwarded-Proto): secure cookies, HSTS, and plain HTTP redirected.
HTTPS = env_bool("HTTPS", "false")
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", "true")
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", "true")
# How many proxies stand in front of the server: only their X-Forwarded-For entries are
# believed (a client writes any it likes before them). None by default, one behind HTTPS.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 1 if HTTPS else 0)
if TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("TRUSTED_PROXIES must be 0 or more")
if TRUSTED_PROXIES:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXIES
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# The API. Every view is checked against the rules in accounts/rules.py; API keys
# (Authorization: Bearer <key>) come first, so a refused request answers 401.
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.FollowsTheRules"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Rates per user (or key's user; per address for anonymous visitors): generous for a
    # person at the page, tight for a script in a loop. Past one: 429 with Retry-After.
    "DEFAULT_THROTTLE_RATES": {
        "search_upload": env_str("RATE_SEARCH_UPLOAD", "60/min"),
        "uploads": env_str("RATE_UPLOADS", "600/min"),
        "key_create": env_str("RATE_KEY_CREATE", "20/hour"),
    },
    # Anonymous visitors are counted by address: X-Forwarded-For only from trusted proxies.
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_PAGINATION_CLASS": "core.pagination.Pagination",
    "PAGE_SIZE": 60,
    "DEFAULT_SCHEMA_CLASS": "core.schema.ImageSimAutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ImageSim API",
    "DESCRIPTION": "Self-hosted image similarity search: the image library, features and search.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs follow the access rules like every other read.
    "SERVE_PERMISSIONS": ["accounts.permissions.FollowsTheRules"],
    # Swagger UI served by the app itself, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request bodies get their own components, with the constraints only requests have.
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation lists its error statuses with their JSON body (core/schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "core.schema.error_components"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
