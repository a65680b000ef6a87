"""Production (DEBUG off) refuses to start without SECRET_KEY, ALLOWED_HOSTS and SITE_URL, each
with a message naming the variable, where it starts: the WSGI and ASGI applications, the task
workers (`manage.py qcluster`) and `manage.py check --deploy`. Management commands such as
`makemigrations` and `check` run without them."""

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


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {*PRODUCTION, "DEBUG"}}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "DATABASE_URL": "sqlite:///:memory:",
            "REDIS_URL": "",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=90,
    )


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    return run("-c", "import helpdesk.settings as s; print(s.STORAGES['staticfiles'])", **env)


def without(missing: str) -> dict[str, str]:
    return {k: v for k, v in PRODUCTION.items() if k != missing}


@pytest.mark.parametrize("missing", sorted(PRODUCTION))
def test_the_web_server_refuses_to_start_in_production_without(missing: str) -> None:
    for module in ("helpdesk.wsgi", "helpdesk.asgi"):
        result = run("-c", f"import {module}", **without(missing))
        assert result.returncode != 0, module
        assert "The web server refuses to start" in result.stderr
        assert f"{missing} is not set." in result.stderr


@pytest.mark.parametrize("missing", sorted(PRODUCTION))
def test_the_task_workers_refuse_to_start_in_production_without(missing: str) -> None:
    result = run("manage.py", "qcluster", **without(missing))
    assert result.returncode != 0
    assert "CommandError: qcluster refuses to start" in result.stderr
    assert f"{missing} is not set." in result.stderr


@pytest.mark.parametrize("missing", sorted(PRODUCTION))
def test_check_deploy_names_each_missing_variable(missing: str) -> None:
    result = run("manage.py", "check", "--deploy", "--tag", "production", **without(missing))
    assert result.returncode != 0
    assert f"{missing} is not set." in result.stderr
    assert [name for name in PRODUCTION if f"{name} is not set." in result.stderr] == [missing]


def test_management_commands_run_without_the_production_variables() -> None:
    assert load_settings().returncode == 0
    for command in (["makemigrations", "--check", "--dry-run"], ["check"]):
        result = run("manage.py", *command)
        assert result.returncode == 0, result.stdout + result.stderr


def test_without_them_production_has_no_usable_fallback() -> None:
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.core import signing\n"
        "print(settings.ALLOWED_HOSTS, repr(settings.SITE_URL))\n"
        "signing.dumps('x')\n"
    )
    result = run("-c", script)
    assert result.returncode != 0
    assert "[] ''" in result.stdout
    assert "The SECRET_KEY setting must not be empty." in result.stderr


def test_it_starts_in_production_with_them_and_fingerprints_static_files() -> None:
    result = load_settings(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "CompressedManifestStaticFilesStorage" in result.stdout
    served = run("-c", "import helpdesk.wsgi", **PRODUCTION)
    assert served.returncode == 0, served.stderr
    checked = run("manage.py", "check", "--deploy", "--tag", "production", **PRODUCTION)
    assert checked.returncode == 0, checked.stderr


def test_it_starts_for_development_with_nothing_set() -> None:
    result = load_settings(DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert "'django.contrib.staticfiles.storage.StaticFilesStorage'" in result.stdout
    served = run("-c", "import helpdesk.wsgi", DEBUG="true")
    assert served.returncode == 0, served.stderr


def test_a_log_level_in_lower_case_is_taken_as_gunicorn_takes_it() -> None:
    result = run(
        "-c",
        "import django; django.setup(); import logging; print(logging.getLogger().level)",
        LOG_LEVEL="warning",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "30"
