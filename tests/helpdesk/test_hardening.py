"""Sign-in lockout, the Content-Security-Policy, and settings that refuse unsafe production."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client

from plans.roles import AGENTS, SUPPORT_MANAGERS
from tests.factories import AgentFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "helpdesk.example",
    "SITE_URL": "https://helpdesk.example",
    "DATABASE_URL": "sqlite:///:memory:",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECRET_KEY"))}
    clean["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


# -- lockout ----------------------------------------------------------------------------------


@pytest.mark.parametrize("login_url", ["/accounts/login/", "/admin/login/"])
def test_it_locks_an_account_out_from_an_address_after_five_wrong_passwords(
    login_url: str,
) -> None:
    user = AgentFactory.create(username="target")
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert (
            client.post(login_url, {"username": "target", "password": "wrong"}).status_code == 200
        )
    locked = client.post(login_url, {"username": "target", "password": "wrong"})
    assert locked.status_code == 429
    assert "Sign-in locked for now" in locked.content.decode()
    assert "15 min" in locked.content.decode()
    # The right password does not get through while the lock lasts...
    right = client.post(login_url, {"username": "target", "password": "pw-for-tests"})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    # ...but the same account from another address, and another account here, still sign in.
    other = Client(REMOTE_ADDR="198.51.100.7")
    other.post(login_url, {"username": "target", "password": "pw-for-tests"})
    assert other.session["_auth_user_id"] == str(user.pk)
    UserFactory.create(username="colleague", is_staff=True)
    client.post(login_url, {"username": "colleague", "password": "pw-for-tests"})
    assert "_auth_user_id" in client.session


def test_a_support_manager_unlocks_an_account_in_the_admin() -> None:
    target = UserFactory.create(username="locked-out")
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "locked-out", "password": "wrong"})
    attempt = AccessAttempt.objects.get(username="locked-out")
    manager = AgentFactory.create(username="boss")
    manager.groups.add(Group.objects.get(name=SUPPORT_MANAGERS))
    admin = Client()
    admin.force_login(manager)
    assert admin.get("/admin/axes/accessattempt/").status_code == 200
    response = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    client.post("/accounts/login/", {"username": "locked-out", "password": "pw-for-tests"})
    assert client.session["_auth_user_id"] == str(target.pk)


def test_an_agent_cannot_unlock_sign_ins() -> None:
    agent = AgentFactory.create(username="plain-agent")
    agent.groups.add(Group.objects.get(name=AGENTS))
    client = Client()
    client.force_login(agent)
    assert client.get("/admin/axes/accessattempt/").status_code == 403


# -- Content-Security-Policy ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/healthz"])
def test_every_page_sends_a_policy_without_inline_script(client: Client, path: str) -> None:
    policy = client.get(path)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"]
    assert directives["default-src"] == "'self'"


def test_signed_in_pages_send_the_policy_too(client: Client) -> None:
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    for path in ("/admin/", "/admin/tickets/ticket/", "/admin/sla/target/add/", "/account/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response["Content-Security-Policy"], path
        html = response.content.decode()
        inline = [m for m in re.findall(r"<script\b[^>]*>", html) if "src=" not in m]
        assert not [m for m in inline if "application/json" not in m], (path, inline)


def test_no_template_of_ours_holds_an_inline_script() -> None:
    inline = []
    for path in (ROOT / "templates").rglob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", path.read_text()):
            if "src=" not in tag:
                inline.append(f"{path.relative_to(ROOT)}: {tag}")
    assert inline == []


# -- settings ---------------------------------------------------------------------------------


def test_it_refuses_the_published_secret_key_with_debug_off() -> None:
    published = {**PRODUCTION, "SECRET_KEY": settings.PUBLISHED_SECRET_KEY}
    result = manage("check", "--deploy", "--tag", "production", env=published)
    assert result.returncode != 0
    assert "SECRET_KEY is the published development default" in result.stderr
    served = subprocess.run(
        [sys.executable, "-c", "import helpdesk.wsgi"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", **published},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served.returncode != 0
    assert "ImproperlyConfigured" in served.stderr
    assert "SECRET_KEY is the published development default" in served.stderr


def test_check_deploy_gives_no_warning_in_a_production_environment() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
