"""Settings come from the environment, fail loudly, and keep the household's data private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _settings_value(
    tmp_path: Path, expression: str, *, drop: tuple[str, ...] = (), **env: str
) -> subprocess.CompletedProcess[str]:
    """Start Django in a fresh process with the given environment and print one expression."""
    child_env = {k: v for k, v in os.environ.items() if k not in drop}
    child_env.update({"HEARTH_DATA_DIR": str(tmp_path / "data"), **env})
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("HEARTH_JOB_STALE_SECONDS", "soon"),
        ("DATABASE_URL", "mysql://somewhere/db"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("HEARTH_LOGIN_FAILURE_LIMIT", "0"),
    ],
)
def test_a_malformed_value_stops_start_up_naming_the_variable(tmp_path: Path, variable: str, value: str) -> None:
    result = _settings_value(tmp_path, "settings.DEBUG", **{variable: value})
    assert result.returncode != 0
    assert "ConfigError" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


def test_debug_is_off_unless_asked_for(tmp_path: Path) -> None:
    assert _settings_value(tmp_path, "settings.DEBUG", drop=("DEBUG",)).stdout.strip() == "False"
    assert _settings_value(tmp_path, "settings.DEBUG", DEBUG="yes").stdout.strip() == "True"


def test_first_start_creates_a_private_data_dir_and_a_secret_key_kept_across_starts(tmp_path: Path) -> None:
    assert _settings_value(tmp_path, "1").returncode == 0
    data_dir = tmp_path / "data"
    key_file = data_dir / "secret_key"
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first_key = key_file.read_text()
    assert len(first_key) >= 50
    assert _settings_value(tmp_path, "1").returncode == 0
    assert key_file.read_text() == first_key


def test_secret_key_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("from-a-docker-secret-" + "x" * 40)
    result = _settings_value(tmp_path, "settings.SECRET_KEY", SECRET_KEY_FILE=str(secret))
    assert result.stdout.strip() == secret.read_text()


def test_every_process_is_kept_off_model_hubs() -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("this run is on PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 10_000


def test_lan_addresses_are_allowed_hosts_by_default(tmp_path: Path) -> None:
    result = _settings_value(tmp_path, "','.join(settings.ALLOWED_HOSTS)", drop=("ALLOWED_HOSTS",))
    hosts = result.stdout.strip().split(",")
    assert "localhost" in hosts
    assert any(h.count(".") == 3 and not h.startswith("127.") for h in hosts), hosts
