"""Settings read from the environment, failing loudly on bad values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]


def run_check(**env):
    """Run `manage.py check` with exactly these settings variables."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_the_server_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = run_check(DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY must be set to a long random value when DEBUG is off" in result.stderr


def test_the_server_starts_with_a_real_secret_key():
    result = run_check(DEBUG="false", SECRET_KEY="a-real-and-long-secret-key-for-this-test-0123456789")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_secret_key_under_50_characters_is_refused_naming_the_variable():
    result = run_check(DEBUG="false", SECRET_KEY="short-but-not-empty-0123456789")

    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: SECRET_KEY is too short or too simple "
        "(30 characters): use at least 50 random characters, e.g. python -c 'import secrets; "
        "print(secrets.token_urlsafe(50))'.")


def test_the_made_secret_key_is_readable_by_its_owner_only(tmp_path):
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    script = f"source {ROOT / 'bin' / 'secret-key'} && echo -n $SECRET_KEY"
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}

    made = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    (tmp_path / "var" / "secret_key").chmod(0o644)  # one made readable by all before
    again = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=60)

    key_file = tmp_path / "var" / "secret_key"
    assert len(made.stdout) >= 50 and again.stdout == made.stdout
    assert made.stdout == key_file.read_text().strip()
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_env_bool_refuses_a_value_it_cannot_read(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be true or false, not 'maybe'"):
        env_bool("DEBUG")


def test_env_int_refuses_a_value_it_cannot_read(monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_MB", "16MB")
    with pytest.raises(ImproperlyConfigured, match="MAX_UPLOAD_MB must be a whole number"):
        env_int("MAX_UPLOAD_MB", 16)


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " example.com, ,images.example.com ")
    assert env_list("ALLOWED_HOSTS") == ["example.com", "images.example.com"]
