"""Every response forbids other origins; no page pulls an asset from anywhere else."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//""", re.IGNORECASE)


def _policy(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/jobs/", "/settings/", "/no-such-page/", "/static/css/hearth.css"])
def test_every_response_carries_a_csp_with_no_external_origins(client: Client, alice: Any, path: str) -> None:
    client.force_login(alice)
    policy = _policy(client.get(path))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    for sources in policy.values():
        for source in sources:
            assert source in ("'self'", "'none'", "data:", "blob:"), source


def test_templates_and_static_files_load_nothing_from_elsewhere() -> None:
    files = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("static/**/*.js"), *ROOT.glob("static/**/*.css")]
    assert files
    for path in files:
        assert not EXTERNAL.search(path.read_text()), f"{path} refers to another origin"


@pytest.mark.django_db
def test_pages_are_not_framed_or_sniffed(client: Client, alice: Any) -> None:
    client.force_login(alice)
    response = client.get("/jobs/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_a_missing_page_gets_the_layouts_404(client: Client, alice: Any) -> None:
    client.force_login(alice)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Jobs" in response.content  # the navigation of the layout is there
