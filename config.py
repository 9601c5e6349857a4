"""One configuration module: every setting comes from the environment, checked at start-up.

A wrong value stops the app with a message that names the variable and what it expects,
instead of failing later on the first request that needs it.
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from email.utils import formataddr, parseaddr
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message tells the operator how to fix it."""


def _int_setting(environ, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _database_url(environ, instance_dir: Path) -> str:
    url = environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance_dir / 'crossclass.db'}"
    if url.startswith("postgres://"):
        # Heroku-style URLs are common in the wild; SQLAlchemy only knows the long scheme.
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if not (url.startswith("sqlite:///") or url.startswith("postgresql+psycopg://")):
        raise ConfigError(f"DATABASE_URL must start with sqlite:/// or postgresql:// (got {url.split(':', 1)[0]!r})")
    return url


def _redis_url(environ) -> str | None:
    url = environ.get("REDIS_URL", "").strip()
    if not url:
        return None
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"REDIS_URL must start with redis://, rediss:// or unix:// (got {url!r})")
    return url


def _allowed_origins(environ, port: int) -> list[str]:
    raw = environ.get("ALLOWED_ORIGINS", "").strip()
    if not raw:
        return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    origins = []
    for origin in (part.strip().rstrip("/") for part in raw.split(",")):
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise ConfigError(
                "ALLOWED_ORIGINS must be a comma-separated list of origins such as "
                f"https://crossclass.example.eu (got {origin!r})"
            )
        origins.append(origin)
    return origins


def _secret_key(environ, instance_dir: Path) -> str:
    key = environ.get("SECRET_KEY", "").strip()
    if key:
        if len(key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters long")
        return key
    # Generated once and kept, so sessions survive a restart without any set-up.
    key_file = instance_dir / "secret_key"
    try:
        instance_dir.mkdir(parents=True, exist_ok=True)
        # O_EXCL: of several processes starting at once, exactly one writes the key; the
        # mode is set at creation, so the key is never readable by others, not even briefly.
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = _read_key_file(key_file)
    except OSError as error:
        raise ConfigError(f"SECRET_KEY is not set and {key_file} cannot be created: {error.strerror}") from None
    else:
        key = secrets.token_hex(32)
        with os.fdopen(descriptor, "w") as stream:
            stream.write(key)
    return key


def _read_key_file(key_file: Path) -> str:
    # Another process may have created the file a moment ago and still be writing it.
    for _attempt in range(50):
        try:
            key = key_file.read_text().strip()
        except OSError as error:
            raise ConfigError(f"SECRET_KEY is not set and {key_file} cannot be read: {error.strerror}") from None
        if len(key) >= 32:
            return key
        time.sleep(0.02)
    raise ConfigError(f"{key_file} must hold a SECRET_KEY of at least 32 characters; delete it to make a new one")


CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")


def _choice_setting(environ, name: str, default: str, choices) -> str:
    value = environ.get(name, "").strip() or default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _bool_setting(environ, name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _mail_url(environ) -> dict | None:
    """MAIL_URL as SMTP settings; None means the outbox folder (nothing leaves the machine)."""
    url = environ.get("MAIL_URL", "").strip()
    if not url:
        return None
    example = "smtp://user:password@mail.example.eu:587?starttls=1 or smtps://user:password@mail.example.eu"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(f"MAIL_URL has an invalid port; expected e.g. {example}") from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(f"MAIL_URL must look like {example} (got scheme {parts.scheme!r})")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(options) - {"starttls"}
    if unknown:
        raise ConfigError(f"MAIL_URL knows only the option starttls, got {', '.join(sorted(unknown))}")
    starttls = _bool_setting({"MAIL_URL starttls": options.get("starttls", "")}, "MAIL_URL starttls", False)
    if starttls and parts.scheme == "smtps":
        raise ConfigError("MAIL_URL: smtps:// is already encrypted; starttls=1 is for smtp:// only")
    encrypted = starttls or parts.scheme == "smtps"
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.username and not encrypted and not loopback:
        raise ConfigError("MAIL_URL would send its password unencrypted: use smtps:// or add ?starttls=1")
    return {
        "host": parts.hostname,
        "port": port or (465 if parts.scheme == "smtps" else 25),
        "ssl": parts.scheme == "smtps",
        "starttls": starttls,
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
    }


def _mail_from(environ, smtp: dict | None) -> str:
    raw = environ.get("MAIL_FROM", "").strip()
    if not raw:
        if smtp is not None:
            # A real mail server refuses or bins mail from an invented sender.
            raise ConfigError("MAIL_FROM must be set when MAIL_URL is, e.g. CrossClass <no-reply@example.eu>")
        return "CrossClass <no-reply@localhost>"
    name, address = parseaddr(raw)
    local, _at, domain = address.partition("@")
    if not local or not domain or any(c.isspace() for c in address):
        raise ConfigError(f"MAIL_FROM must be an address such as CrossClass <no-reply@example.eu>, got {raw!r}")
    return formataddr((name, address))


def load_config(environ=None, instance_dir: Path | None = None) -> dict:
    """Build the Flask config mapping from the environment; raises ConfigError when invalid."""
    environ = os.environ if environ is None else environ
    instance_dir = instance_dir or INSTANCE_DIR
    port = _int_setting(environ, "PORT", 5000, 1, 65535)
    upload_max_bytes = _int_setting(environ, "UPLOAD_MAX_BYTES", 10 * 1024 * 1024, 1024, 100 * 1024 * 1024)
    origins = _allowed_origins(environ, port)
    database_url = _database_url(environ, instance_dir)
    every_origin_https = all(origin.startswith("https://") for origin in origins)
    # Secure cookies need HTTPS; a local http:// set-up could not log in with them.
    cookie_secure = _bool_setting(environ, "COOKIE_SECURE", every_origin_https)
    mail_smtp = _mail_url(environ)
    config = {
        "PORT": port,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(
            database_url, _int_setting(environ, "DATABASE_POOL_SIZE", 20, 1, 500)
        ),
        "DATABASE_PING_AFTER_IDLE_SECONDS": _int_setting(environ, "DATABASE_PING_AFTER_IDLE_SECONDS", 10, 0, 3600),
        "REDIS_URL": _redis_url(environ),
        # Keys and the pub/sub channel start with this, so several deployments (or test
        # runs) can share one Redis without seeing each other.
        "REDIS_NAMESPACE": environ.get("REDIS_NAMESPACE", "crossclass").strip() or "crossclass",
        "ALLOWED_ORIGINS": origins,
        "SESSION_COOKIE_SECURE": cookie_secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "crossclass_session",
        "REMEMBER_COOKIE_SECURE": cookie_secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int_setting(environ, "SESSION_LIFETIME_HOURS", 12, 1, 24 * 30)),
        "SESSION_IDLE_MINUTES": _int_setting(environ, "SESSION_IDLE_MINUTES", 60, 5, 24 * 60),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session it belongs to
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": {"en": "English", "de": "Deutsch"},
        # Login throttling (app/auth/throttle.py): delays double after the free failures, capped,
        # never a lock-out. FREE_ATTEMPTS counts one account at one address; the account as a
        # whole gets more room, and only browsers without a device cookie for it are held to it.
        "LOGIN_FREE_ATTEMPTS": _int_setting(environ, "LOGIN_FREE_ATTEMPTS", 5, 1, 100),
        "LOGIN_ACCOUNT_FREE_ATTEMPTS": _int_setting(environ, "LOGIN_ACCOUNT_FREE_ATTEMPTS", 20, 1, 1000),
        "LOGIN_MAX_DELAY_SECONDS": _int_setting(environ, "LOGIN_MAX_DELAY_SECONDS", 900, 1, 86400),
        # Device cookies (app/auth/device_cookies.py): a browser that logged in to an account
        # skips the throttles above for it; this many failures lock its cookie out for a while.
        "LOGIN_DEVICE_MAX_FAILURES": _int_setting(environ, "LOGIN_DEVICE_MAX_FAILURES", 5, 1, 100),
        "LOGIN_DEVICE_LOCKOUT_MINUTES": _int_setting(environ, "LOGIN_DEVICE_LOCKOUT_MINUTES", 1440, 1, 30 * 1440),
        "LOGIN_DEVICE_COOKIE_DAYS": _int_setting(environ, "LOGIN_DEVICE_COOKIE_DAYS", 180, 1, 730),
        # Accounts remembered per browser (a shared school PC): the cookie must stay under 4 KB.
        "LOGIN_DEVICE_COOKIE_ACCOUNTS": _int_setting(environ, "LOGIN_DEVICE_COOKIE_ACCOUNTS", 30, 1, 50),
        # Reverse proxies (nginx) in front of the app: their X-Forwarded-For entries are
        # trusted, so login throttling counts each client's own address, not the proxy's.
        "TRUSTED_PROXIES": _int_setting(environ, "TRUSTED_PROXIES", 0, 0, 5),
        # Real-time limits, per user (see docs/realtime.md).
        "SOCKET_MAX_PAYLOAD_BYTES": _int_setting(environ, "SOCKET_MAX_PAYLOAD_BYTES", 16_384, 256, 1 << 20),
        "SOCKET_EVENTS_PER_SECOND": _int_setting(environ, "SOCKET_EVENTS_PER_SECOND", 10, 1, 1000),
        "SOCKET_EVENT_BURST": _int_setting(environ, "SOCKET_EVENT_BURST", 20, 1, 10000),
        # A socket refused more than SOCKET_FLOOD_REFUSALS times within SOCKET_FLOOD_WINDOW_SECONDS
        # is disconnected, and its user's connects refused for SOCKET_FLOOD_COOLDOWN_SECONDS
        # (app/realtime/flood.py). 0 refusals: never disconnected for it.
        "SOCKET_FLOOD_REFUSALS": _int_setting(environ, "SOCKET_FLOOD_REFUSALS", 300, 0, 1_000_000),
        "SOCKET_FLOOD_WINDOW_SECONDS": _int_setting(environ, "SOCKET_FLOOD_WINDOW_SECONDS", 10, 1, 3600),
        "SOCKET_FLOOD_COOLDOWN_SECONDS": _int_setting(environ, "SOCKET_FLOOD_COOLDOWN_SECONDS", 60, 1, 86400),
        # How long a socket's session and channel checks are kept at most; a commit that
        # changes what they read drops them at once (app/realtime/auth_cache.py). 0: never kept.
        "SOCKET_AUTH_CACHE_SECONDS": _int_setting(environ, "SOCKET_AUTH_CACHE_SECONDS", 15, 0, 300),
        # With several processes, how long a room's numbered event waits for the seqs before it
        # published by another process (app/realtime/ordering.py); 0: sent as it comes.
        "SOCKET_REORDER_WINDOW_MS": _int_setting(environ, "SOCKET_REORDER_WINDOW_MS", 100, 0, 2000),
        # Chat sends to one channel written in one transaction at most (group commit; 1: each alone).
        "CHAT_SEND_BATCH_LIMIT": _int_setting(environ, "CHAT_SEND_BATCH_LIMIT", 64, 1, 1000),
        "SOCKETS_PER_USER": _int_setting(environ, "SOCKETS_PER_USER", 8, 1, 100),
        "STUDENTS_PER_BATCH": 60,
        # Partner matching (app/modules/matching/scoring.py): hard limits and soft weights.
        "MATCH_MIN_LANGUAGE_LEVEL": _choice_setting(environ, "MATCH_MIN_LANGUAGE_LEVEL", "A2", CEFR_LEVELS),
        "MATCH_MIN_LIVE_MINUTES": _int_setting(environ, "MATCH_MIN_LIVE_MINUTES", 45, 0, 24 * 60),
        "MATCH_LIVE_TARGET_MINUTES": _int_setting(environ, "MATCH_LIVE_TARGET_MINUTES", 180, 15, 24 * 60),
        "MATCH_MIN_COMMON_DAYS": _int_setting(environ, "MATCH_MIN_COMMON_DAYS", 14, 1, 365),
        "MATCH_REPEAT_PENALTY": 0.15,
        "MATCH_WEIGHTS": {
            "field": 0.30,
            "eqf": 0.10,
            "language": 0.15,
            "live": 0.15,
            "themes": 0.10,
            "size": 0.05,
            "distance": 0.10,
            "preferred_country": 0.05,
        },
        # A request may carry one upload of UPLOAD_MAX_BYTES and its form around it.
        "MAX_CONTENT_LENGTH": max(16 * 1024 * 1024, upload_max_bytes + 1024 * 1024),
        # E-mail (app/core/mail.py): SMTP from MAIL_URL, else .eml files in MAIL_OUTBOX_DIR.
        # Uploads (app/modules/uploads): one file's size, an image's pixels (a small PNG can
        # claim 50 000 x 50 000 and take gigabytes once decoded), an exchange's total, and
        # what one person may upload in 24 hours.
        "UPLOAD_MAX_BYTES": upload_max_bytes,
        "UPLOAD_IMAGE_MAX_PIXELS": _int_setting(environ, "UPLOAD_IMAGE_MAX_PIXELS", 50_000_000, 10_000, 200_000_000),
        "UPLOAD_THUMBNAIL_PIXELS": _int_setting(environ, "UPLOAD_THUMBNAIL_PIXELS", 400, 64, 2000),
        "UPLOAD_PROJECT_QUOTA_BYTES": _int_setting(
            environ, "UPLOAD_PROJECT_QUOTA_BYTES", 1024 * 1024 * 1024, 1024 * 1024, 1024**4
        ),
        "UPLOADS_PER_USER_PER_DAY": _int_setting(environ, "UPLOADS_PER_USER_PER_DAY", 100, 1, 100_000),
        "UPLOAD_BYTES_PER_USER_PER_DAY": _int_setting(
            environ, "UPLOAD_BYTES_PER_USER_PER_DAY", 200 * 1024 * 1024, 1024 * 1024, 1024**4
        ),
        "UPLOAD_STORAGE_DIR": environ.get("UPLOAD_STORAGE_DIR", "").strip() or str(instance_dir / "uploads"),
        "MAIL_SMTP": mail_smtp,
        "MAIL_FROM": _mail_from(environ, mail_smtp),
        "MAIL_OUTBOX_DIR": str(instance_dir / "outbox"),
        "MAIL_TIMEOUT_SECONDS": _int_setting(environ, "MAIL_TIMEOUT_SECONDS", 20, 1, 300),
        # Password reset links: how long one works, and how many may be asked for per hour.
        "PASSWORD_RESET_MINUTES": _int_setting(environ, "PASSWORD_RESET_MINUTES", 60, 5, 24 * 60),
        "PASSWORD_RESET_PER_ADDRESS": _int_setting(environ, "PASSWORD_RESET_PER_ADDRESS", 3, 1, 100),
        "PASSWORD_RESET_PER_CLIENT": _int_setting(environ, "PASSWORD_RESET_PER_CLIENT", 20, 1, 10_000),
        # Open doors, per client address and hour (app/auth/throttle.py). A whole school shares
        # one address: two classes of 30 must be able to join in one hour; wrong class codes get
        # far less room, so that codes cannot be found by trying.
        "REGISTRATIONS_PER_ADDRESS_PER_HOUR": _int_setting(
            environ, "REGISTRATIONS_PER_ADDRESS_PER_HOUR", 10, 1, 10_000
        ),
        "CODE_JOINS_PER_ADDRESS_PER_HOUR": _int_setting(environ, "CODE_JOINS_PER_ADDRESS_PER_HOUR", 100, 1, 10_000),
        "WRONG_CLASS_CODES_PER_ADDRESS_PER_HOUR": _int_setting(
            environ, "WRONG_CLASS_CODES_PER_ADDRESS_PER_HOUR", 20, 1, 10_000
        ),
    }
    # Last: a wrong setting elsewhere must not leave a freshly generated key file behind.
    config["SECRET_KEY"] = _secret_key(environ, instance_dir)
    return config


def _engine_options(database_url: str, pool_size: int) -> dict:
    if database_url.startswith("sqlite"):
        # WAL and the wait for the write lock are set per connection in app/core/db.py.
        return {}
    return {
        # Under gevent every socket event in progress holds a connection. A pool that opened
        # more at peaks (an "overflow") closed them again on return: a PostgreSQL backend
        # started and ended per event was most of a busy chat channel's database time. A fixed
        # pool lets the events beyond it wait their turn, which costs less.
        "pool_size": pool_size,
        "max_overflow": 0,
        # The most recently used connection first: a quiet process works on a few warm
        # backends (their catalog caches and prepared statements) instead of cycling through all.
        "pool_use_lifo": True,
        # No ping at every checkout (a round trip per socket event): app/core/db.py pings a
        # connection only after it sat idle (DATABASE_PING_AFTER_IDLE_SECONDS).
        "pool_pre_ping": False,
    }
