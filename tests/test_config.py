"""config.load_config: every setting checked at start-up, with a message naming the variable."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 40
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def load(tmp_path, **environ):
    return load_config({"SECRET_KEY": GOOD_KEY, **environ}, instance_dir=tmp_path)


def test_defaults_make_a_local_sqlite_set_up(tmp_path):
    config = load(tmp_path)

    assert config["PORT"] == 5000
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'crossclass.db'}"
    assert config["ALLOWED_ORIGINS"] == ["http://127.0.0.1:5000", "http://localhost:5000"]
    assert config["REDIS_URL"] is None
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_well_formed_values_are_taken(tmp_path):
    config = load(
        tmp_path,
        PORT="8080",
        DATABASE_URL="postgres://crossclass@db.example.eu/crossclass",
        REDIS_URL="redis://127.0.0.1:6379/2",
        ALLOWED_ORIGINS="https://crossclass.example.eu/, https://www.crossclass.example.eu",
        SESSION_IDLE_MINUTES="30",
    )

    assert config["PORT"] == 8080
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://crossclass@db.example.eu/crossclass"
    assert config["REDIS_URL"] == "redis://127.0.0.1:6379/2"
    assert config["ALLOWED_ORIGINS"] == ["https://crossclass.example.eu", "https://www.crossclass.example.eu"]
    assert config["SESSION_IDLE_MINUTES"] == 30
    # Every origin is https, so the cookies are only ever sent over https.
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True


def test_flood_limits_have_defaults_and_can_be_set(tmp_path):
    defaults = load(tmp_path)
    assert (
        defaults["SOCKET_FLOOD_REFUSALS"],
        defaults["SOCKET_FLOOD_WINDOW_SECONDS"],
        defaults["SOCKET_FLOOD_COOLDOWN_SECONDS"],
    ) == (300, 10, 60)
    never_cut_off = load(
        tmp_path, SOCKET_FLOOD_REFUSALS="0", SOCKET_FLOOD_WINDOW_SECONDS="5", SOCKET_FLOOD_COOLDOWN_SECONDS="120"
    )
    assert never_cut_off["SOCKET_FLOOD_REFUSALS"] == 0
    assert never_cut_off["SOCKET_FLOOD_WINDOW_SECONDS"] == 5
    assert never_cut_off["SOCKET_FLOOD_COOLDOWN_SECONDS"] == 120


def test_cookie_secure_can_be_set_explicitly(tmp_path):
    behind_proxy = load(tmp_path, ALLOWED_ORIGINS="http://10.0.0.5:5000", COOKIE_SECURE="yes")
    plain = load(tmp_path, ALLOWED_ORIGINS="https://crossclass.example.eu", COOKIE_SECURE="false")

    assert behind_proxy["SESSION_COOKIE_SECURE"] is behind_proxy["REMEMBER_COOKIE_SECURE"] is True
    assert plain["SESSION_COOKIE_SECURE"] is plain["REMEMBER_COOKIE_SECURE"] is False


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/crossclass"),
        ("DATABASE_URL", "crossclass.db"),
        ("PORT", "http"),
        ("PORT", "0"),
        ("PORT", "70000"),
        ("ALLOWED_ORIGINS", "crossclass.example.eu"),
        ("ALLOWED_ORIGINS", "https://crossclass.example.eu/app"),
        ("ALLOWED_ORIGINS", "ftp://crossclass.example.eu"),
        ("REDIS_URL", "localhost:6379"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("SECRET_KEY", "too-short"),
        ("COOKIE_SECURE", "maybe"),
        ("SESSION_IDLE_MINUTES", "1"),
        ("LOGIN_FREE_ATTEMPTS", "several"),
        ("LOGIN_ACCOUNT_FREE_ATTEMPTS", "0"),
        ("LOGIN_DEVICE_MAX_FAILURES", "lots"),
        ("LOGIN_DEVICE_LOCKOUT_MINUTES", "0"),
        ("LOGIN_DEVICE_COOKIE_DAYS", "1000"),
        # More accounts would not fit in a browser's 4 KB cookie.
        ("LOGIN_DEVICE_COOKIE_ACCOUNTS", "51"),
        ("TRUSTED_PROXIES", "-1"),
        ("MAIL_URL", "mail.example.eu"),
        ("MAIL_URL", "http://mail.example.eu"),
        ("MAIL_URL", "smtp://"),
        ("MAIL_URL", "smtp://mail.example.eu:99999"),
        ("MAIL_URL", "smtp://mail.example.eu?starttls=maybe"),
        ("MAIL_URL", "smtp://mail.example.eu?tls=1"),
        ("MAIL_URL", "smtps://mail.example.eu?starttls=1"),
        ("MAIL_URL", "smtp://user:secret@mail.example.eu:587"),
        ("PASSWORD_RESET_MINUTES", "0"),
        ("PASSWORD_RESET_PER_ADDRESS", "many"),
        ("SOCKET_FLOOD_REFUSALS", "-1"),
        ("SOCKET_FLOOD_WINDOW_SECONDS", "0"),
        ("SOCKET_FLOOD_COOLDOWN_SECONDS", "0"),
        ("SOCKET_FLOOD_COOLDOWN_SECONDS", "a minute"),
    ],
)
def test_a_wrong_value_stops_start_up_naming_the_variable(tmp_path, variable, value):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, **{variable: value})

    assert variable in str(error.value)
    # Nothing is written when the configuration is refused.
    assert not (tmp_path / "secret_key").exists()


def test_login_throttling_defaults(tmp_path):
    config = load(tmp_path)

    assert (config["LOGIN_FREE_ATTEMPTS"], config["LOGIN_MAX_DELAY_SECONDS"]) == (5, 900)
    # The account as a whole has more room than one account at one address.
    assert config["LOGIN_ACCOUNT_FREE_ATTEMPTS"] == 20
    assert (config["LOGIN_DEVICE_MAX_FAILURES"], config["LOGIN_DEVICE_LOCKOUT_MINUTES"]) == (5, 1440)
    assert (config["LOGIN_DEVICE_COOKIE_DAYS"], config["LOGIN_DEVICE_COOKIE_ACCOUNTS"]) == (180, 30)


def test_login_throttling_can_be_tuned(tmp_path):
    config = load(
        tmp_path,
        LOGIN_ACCOUNT_FREE_ATTEMPTS="50",
        LOGIN_DEVICE_MAX_FAILURES="3",
        LOGIN_DEVICE_LOCKOUT_MINUTES="60",
        LOGIN_DEVICE_COOKIE_DAYS="30",
        LOGIN_DEVICE_COOKIE_ACCOUNTS="50",
    )

    assert config["LOGIN_ACCOUNT_FREE_ATTEMPTS"] == 50
    assert (config["LOGIN_DEVICE_MAX_FAILURES"], config["LOGIN_DEVICE_LOCKOUT_MINUTES"]) == (3, 60)
    assert (config["LOGIN_DEVICE_COOKIE_DAYS"], config["LOGIN_DEVICE_COOKIE_ACCOUNTS"]) == (30, 50)


def test_mail_defaults_to_the_outbox_folder(tmp_path):
    config = load(tmp_path)

    assert config["MAIL_SMTP"] is None
    assert config["MAIL_OUTBOX_DIR"] == str(tmp_path / "outbox")
    assert config["MAIL_FROM"] == "CrossClass <no-reply@localhost>"
    assert config["PASSWORD_RESET_MINUTES"] == 60
    assert (config["PASSWORD_RESET_PER_ADDRESS"], config["PASSWORD_RESET_PER_CLIENT"]) == (3, 20)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://crossclass:p%40ss%3Aword@mail.example.eu:587?starttls=1",
            {"host": "mail.example.eu", "port": 587, "ssl": False, "starttls": True, "username": "crossclass"},
        ),
        ("smtps://relay@mail.example.eu", {"port": 465, "ssl": True, "starttls": False, "username": "relay"}),
        ("smtp://127.0.0.1:2525", {"port": 2525, "ssl": False, "starttls": False, "username": None}),
        # A local relay may take a password without TLS: it never leaves the machine.
        ("smtp://local:secret@localhost", {"port": 25, "username": "local", "password": "secret"}),
    ],
)
def test_mail_url_gives_the_smtp_settings(tmp_path, url, expected):
    config = load(tmp_path, MAIL_URL=url, MAIL_FROM="CrossClass <no-reply@example.eu>")

    assert expected.items() <= config["MAIL_SMTP"].items()
    assert config["MAIL_FROM"] == "CrossClass <no-reply@example.eu>"
    if "p%40ss" in url:
        assert config["MAIL_SMTP"]["password"] == "p@ss:word"


def test_mail_url_needs_a_sender_and_the_sender_must_be_an_address(tmp_path):
    with pytest.raises(ConfigError, match="MAIL_FROM must be set when MAIL_URL is"):
        load(tmp_path, MAIL_URL="smtps://relay@mail.example.eu")
    with pytest.raises(ConfigError, match="MAIL_FROM must be an address"):
        load(tmp_path, MAIL_FROM="CrossClass")
    assert load(tmp_path, MAIL_FROM="no-reply@example.eu")["MAIL_FROM"] == "no-reply@example.eu"


def test_a_secret_key_is_generated_once_and_kept(tmp_path):
    instance = tmp_path / "instance"

    first = load_config({}, instance_dir=instance)
    second = load_config({}, instance_dir=instance)

    assert len(first["SECRET_KEY"]) >= 32
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    key_file = instance / "secret_key"
    assert key_file.read_text().strip() == first["SECRET_KEY"]
    # Only the server's own user may read it.
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # Another instance directory gets its own key.
    assert load_config({}, instance_dir=tmp_path / "other")["SECRET_KEY"] != first["SECRET_KEY"]


def test_a_secret_key_in_the_environment_wins_and_writes_no_file(tmp_path):
    config = load_config({"SECRET_KEY": GOOD_KEY}, instance_dir=tmp_path)

    assert config["SECRET_KEY"] == GOOD_KEY
    assert not (tmp_path / "secret_key").exists()


def test_an_empty_key_file_is_refused_instead_of_used(tmp_path):
    (tmp_path / "secret_key").write_text("")

    with pytest.raises(ConfigError) as error:
        load_config({}, instance_dir=tmp_path)

    assert "SECRET_KEY" in str(error.value)


def test_the_server_refuses_to_start_with_a_bad_port_and_says_why(tmp_path):
    environ = {
        **os.environ,
        "PORT": "eighty",
        "SECRET_KEY": GOOD_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}",
    }
    environ.pop("REDIS_URL", None)

    result = subprocess.run(
        [str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable, "wsgi.py"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "CrossClass cannot start: PORT must be a whole number, got 'eighty'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "never.db").exists()


def test_the_reorder_window_is_bounded(tmp_path):
    assert load(tmp_path)["SOCKET_REORDER_WINDOW_MS"] == 100
    assert load(tmp_path, SOCKET_REORDER_WINDOW_MS="0")["SOCKET_REORDER_WINDOW_MS"] == 0
    assert load(tmp_path, SOCKET_REORDER_WINDOW_MS="2000")["SOCKET_REORDER_WINDOW_MS"] == 2000
    with pytest.raises(ConfigError, match="SOCKET_REORDER_WINDOW_MS must be between 0 and 2000, got 2001"):
        load(tmp_path, SOCKET_REORDER_WINDOW_MS="2001")
    with pytest.raises(ConfigError, match="SOCKET_REORDER_WINDOW_MS must be a whole number"):
        load(tmp_path, SOCKET_REORDER_WINDOW_MS="0.1")


def test_upload_limits_are_checked_and_the_request_limit_follows_the_file_limit(tmp_path):
    from config import ConfigError, load_config

    base = {"SECRET_KEY": "k" * 40}
    defaults = load_config(base, tmp_path)
    assert defaults["UPLOAD_MAX_BYTES"] == 10 * 1024 * 1024
    assert defaults["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024
    assert defaults["UPLOAD_STORAGE_DIR"] == str(tmp_path / "uploads")
    larger = load_config({**base, "UPLOAD_MAX_BYTES": str(50 * 1024 * 1024)}, tmp_path)
    assert larger["MAX_CONTENT_LENGTH"] == 51 * 1024 * 1024
    with pytest.raises(ConfigError, match="UPLOAD_IMAGE_MAX_PIXELS must be between"):
        load_config({**base, "UPLOAD_IMAGE_MAX_PIXELS": "999999999999"}, tmp_path)
