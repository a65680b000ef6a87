"""Production (DEBUG off) refuses to start without SECRET_KEY, ALLOWED_HOSTS and SITE_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": "a-real-secret",
    "ALLOWED_HOSTS": "help.example.com",
    "SITE_URL": "https://help.example.com",
}


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {*PRODUCTION, "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import helpdesk.settings as s; print(s.STORAGES['staticfiles'])"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("missing", sorted(PRODUCTION))
def test_it_refuses_to_start_in_production_without(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = load_settings(**env)
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {missing} is not set." in result.stderr


def test_it_starts_in_production_with_them_and_fingerprints_static_files() -> None:
    result = load_settings(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "CompressedManifestStaticFilesStorage" in result.stdout


def test_it_starts_for_development_with_nothing_set() -> None:
    result = load_settings(DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert "'django.contrib.staticfiles.storage.StaticFilesStorage'" in result.stdout
