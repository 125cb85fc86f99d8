"""Finding 7: private pages are not cached, Hearth can sit behind an HTTPS proxy, members do not see
server paths, and the vector store is kept on loopback (the pinned Chroma server has no token auth)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent.parent


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/jobs/", "/api/jobs/", "/documents/", "/settings/", "/chat/personas/"])
def test_private_pages_are_not_kept_by_caches(alice: Any, path: str) -> None:
    response = _client(alice).get(path)
    assert response.status_code == 200
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives


@pytest.mark.django_db
def test_the_login_page_is_not_kept_by_caches_either(client: Client, olivia: Any) -> None:
    directives = {d.strip() for d in client.get("/login/")["Cache-Control"].split(",")}
    assert "no-store" in directives


def _settings_print(tmp_path: Path, expression: str, **env: str) -> str:
    child_env = {**os.environ, "HEARTH_DATA_DIR": str(tmp_path / "data"), **env}
    code = f"import django; django.setup(); from django.conf import settings as s; print({expression})"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_behind_an_https_proxy_cookies_are_secure_and_the_proxy_header_is_trusted(tmp_path: Path) -> None:
    expression = "s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE"
    proxied = _settings_print(tmp_path, expression, HEARTH_BEHIND_HTTPS_PROXY="true")
    assert proxied == "('HTTP_X_FORWARDED_PROTO', 'https') True True"
    assert _settings_print(tmp_path, expression) == "None False False"


@pytest.mark.django_db
def test_members_do_not_see_server_paths_of_models(alice: Any, olivia: Any) -> None:
    from assistant.models import LocalModel

    LocalModel.objects.create(path="/srv/secret-place/models/llama.gguf", name="Llama")
    page = _client(alice).get("/models/").content.decode()
    assert "/srv/secret-place" not in page
    assert str(settings.MODELS_DIR) not in page
    owners_page = _client(olivia).get("/models/").content.decode()
    assert str(settings.MODELS_DIR) in owners_page


def test_the_chroma_hearth_starts_listens_on_loopback_only() -> None:
    from assistant.core.processes import chroma_command

    argv = chroma_command(path=Path("/tmp/chroma"), port=8766)
    assert argv[argv.index("--host") + 1] == "127.0.0.1"


def test_the_readme_says_why_chroma_has_no_token() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "Chroma" in readme
    assert "no token" in readme.lower() or "without a token" in readme.lower()
