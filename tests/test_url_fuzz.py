"""Hostile input on every URL the resolver knows: a 400 or 404 (or a redirect), never a 500.

Every pattern from `get_resolver()` (the admin's included) is requested as a signed-in customer,
agent and manager with hostile path values (NUL, non-ASCII digits, huge numbers, overlong text),
then with real path values and hostile query values: the common query parameters of the
portal and reports, and for each admin changelist the parameters of its own filters.
NUL bytes matter most on PostgreSQL (it refuses them in text), where CI runs this.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory

from plans.roles import AGENTS, SUPPORT_MANAGERS
from tests.builders.portal import PortalWorld as World
from tests.builders.portal import build_portal_world, open_ticket, upload
from tests.factories import AgentFactory
from tests.urlvalues import real_values
from tests.urlwalk import Route, all_routes


@pytest.fixture
def world(db: None) -> World:
    return build_portal_world()


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    """Uploaded files go to a temporary folder, never the project's media."""
    settings.MEDIA_ROOT = tmp_path / "media"


pytestmark = pytest.mark.django_db

HOSTILE_PATH = ["\x00", "²", "٣", "9" * 30, "x" * 3000]
ADMIN_PATH = ["\x00", "²", "9" * 30]
HOSTILE_QUERY = ["\x00", "²", "9" * 30, "x" * 1500]
COMMON_QUERY = [
    "q",
    "page",
    "status",
    "severity",
    "format",
    "start",
    "end",
    "plan",
    "organization",
    "queue",
    "agent",
    "metric",
    "month",
    "next",
    "category",
    "policy",
]
ADMIN_QUERY = ["q", "o", "p", "e", "all", "_changelist_filters", "_popup", "_to_field"]
ADMIN_FORM_QUERY = ["_changelist_filters", "_popup", "_to_field", "next"]


def changelist_params(route: Route, superuser: Any) -> list[str]:
    """The query parameters an admin changelist reads: its filters' own and the admin's."""
    parts = route.template.strip("/").split("/")
    if route.name.endswith("_changelist") and len(parts) == 3:
        for model, model_admin in admin.site._registry.items():
            if (model._meta.app_label, model._meta.model_name) == (parts[1], parts[2]):
                request = RequestFactory().get(route.template)
                request.user = superuser
                changelist = model_admin.get_changelist_instance(request)
                names = [p for spec in changelist.filter_specs for p in spec.expected_parameters()]
                return [*ADMIN_QUERY, *names]
    return ADMIN_FORM_QUERY


def roles(world: World) -> dict[str, Any]:
    agent = AgentFactory.create(username="fuzz-agent")
    agent.groups.add(Group.objects.get_or_create(name=AGENTS)[0])
    manager = AgentFactory.create(username="fuzz-manager")
    manager.groups.add(
        Group.objects.get_or_create(name=AGENTS)[0],
        Group.objects.get_or_create(name=SUPPORT_MANAGERS)[0],
    )
    return {"customer": world.alice.user, "agent": agent, "manager": manager}


def requests(world: World, superuser: Any, role: str) -> Iterator[tuple[Route, str]]:
    """What one role asks for. A customer is sent to the admin's sign-in before any admin view
    reads a value, so customers try each admin page with one hostile value only."""
    for route in all_routes():
        staff_only = route.is_admin and role == "customer"
        # The admin reads every object id the same way: three values show it.
        path_values = HOSTILE_PATH[:1] if staff_only else HOSTILE_PATH
        if route.is_admin:
            path_values = [v for v in path_values if v in ADMIN_PATH]
        if route.params:
            for value in path_values:
                yield route, route.fill(dict.fromkeys(route.params, value))
        path = route.fill(real_values(route, world))
        params = changelist_params(route, superuser) if route.is_admin else COMMON_QUERY
        # NUL is refused before any view runs: one request with every parameter shows it.
        yield route, path + "?" + "&".join(f"{name}=%00" for name in params)
        if staff_only:
            continue
        for value in HOSTILE_QUERY[1:]:
            if route.name.endswith("_changelist"):
                # One at a time: the admin refuses a bad filter before reading the others.
                for name in params if value in ADMIN_PATH else ("q",):
                    yield route, f"{path}?{name}={value}"
            else:  # these views read every parameter on their own
                yield route, path + "?" + "&".join(f"{name}={value}" for name in params)


def test_it_answers_hostile_paths_and_queries_without_a_server_error(
    world: World, django_user_model: Any
) -> None:
    open_ticket(world.alice, attachments=(upload(),))
    open_ticket(world.charlie)
    superuser = django_user_model.objects.create_superuser("fuzz-root", "r@example.com", "pw")
    checked, failures = 0, []
    for role, user in roles(world).items():
        client = Client(raise_request_exception=False)
        client.force_login(user)
        for route, path in list(requests(world, superuser, role)):
            response = client.get(path)
            checked += 1
            # /readyz answers 503 by design when the sweep has not run (tests/helpdesk/test_health).
            not_ready = route.name == "readyz" and response.status_code == 503
            if response.status_code >= 500 and not not_ready:
                failures.append(f"{role} {route.name or route.template}: {path[:120]}")
    print(f"fuzz: {len(all_routes())} URL patterns, {checked} requests, {len(failures)} failures")
    assert not failures, "\n".join(failures[:40])
