"""Tenants and roles over EVERY URL the resolver knows (no hand-written list).

Each pattern is filled with real objects of Acme (a ticket and its attachment, Bob's contact
row, an invitation, the first row of an admin page's model) and requested as Acme's admin
(owner), Acme's colleague, Globex's contact (outsider), an agent, a support manager, a policy
administrator and an anonymous visitor. A pattern that only accepts POST is posted to (empty).

- anonymous: sent to a sign-in page (portal, reports and admin), unless the page is public;
- outsider: 404 on every page that names an Acme object; never an Acme object's page;
- customers: never the admin (sent to its sign-in) nor a report (403);
- staff: the admin pages their role's permissions allow, 403 on the others (a refused change
  is never saved), reports for managers only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from plans.roles import AGENTS, POLICY_ADMINISTRATORS, SUPPORT_MANAGERS
from tests.builders.portal import PortalWorld as World
from tests.builders.portal import build_portal_world, open_ticket, upload
from tests.factories import AgentFactory, TimeEntryFactory
from tests.urlvalues import admin_model, real_values
from tests.urlwalk import Route, all_routes
from tickets import services
from tickets.roles import ROLE_PERMISSIONS

# Operations endpoints (health, metrics) and robots.txt answer machines, not tenants or roles.
OPERATIONS = {"healthz", "readyz", "metrics", "robots"}


@pytest.fixture
def world(db: None) -> World:
    return build_portal_world()


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    """Uploaded files go to a temporary folder, never the project's media."""
    settings.MEDIA_ROOT = tmp_path / "media"


pytestmark = pytest.mark.django_db

CUSTOMER_ROLES = ("outsider", "anonymous", "colleague", "owner")  # owner last: it acts
STAFF_ROLES = {"agent": AGENTS, "manager": SUPPORT_MANAGERS, "policy": POLICY_ADMINISTRATORS}
PUBLIC = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
    "invitation",
    "admin:login",
}
# Portal pages naming an object of Acme: the outsider must get 404 there.
ACME_OBJECT_PARAMS = {"reference", "pk"}
ADMIN_ACTION = {
    "changelist": "view",
    "change": "view",
    "history": "view",
    "add": "add",
    "delete": "delete",
}
ADMIN_ALWAYS = {
    "admin:index",
    "admin:logout",
    "admin:password_change",
    "admin:password_change_done",
    "admin:jsi18n",
    "admin:autocomplete",
    "admin:view_on_site",
    "admin:app_list",
}


def admin_permission(route: Route) -> str | None:
    """The permission an admin page needs, as `app.action_model`, or None (any staff)."""
    model = admin_model(route)
    if model is None or route.name in ADMIN_ALWAYS:
        return None
    suffix = route.name.rsplit("_", 1)[-1] if route.name else "change"
    action = ADMIN_ACTION.get(suffix, "change")  # the desk's work views change the ticket
    if not route.name:  # `<id>/` redirects to the change page
        action = "view"
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def granted(role_group: str, permission: str) -> bool:
    app_label, codename = permission.split(".")
    action, model = codename.split("_", 1)
    actions = ROLE_PERMISSIONS[role_group].get(f"{app_label}.{model}", ())
    return action in actions or (action == "view" and "change" in actions)


def build(world: World) -> dict[str, Any]:
    ticket = open_ticket(world.alice, attachments=(upload(),))
    services.ticket_request_escalation(ticket=ticket, by=world.alice.user, reason="Urgent")
    open_ticket(world.charlie)
    TimeEntryFactory.create(ticket=ticket, date=dt.date(2026, 11, 2))
    users: dict[str, Any] = {
        "owner": world.alice.user,
        "colleague": world.bob.user,
        "outsider": world.charlie.user,
        "anonymous": None,
    }
    for role, group in STAFF_ROLES.items():
        user = AgentFactory.create(username=f"tenant-{role}")
        user.groups.add(Group.objects.get(name=group))
        users[role] = user
    return users


def fetch(client: Client, path: str) -> Any:
    response = client.get(path)
    if response.status_code == 405:
        response = client.post(path, {})
    return response


def problem(role: str, route: Route, status: int, location: str) -> str | None:
    """Why this answer is wrong for this role, or None."""
    name = route.name
    staff = role in STAFF_ROLES
    if status >= 500:
        return "server error"
    if route.is_admin:
        if role == "anonymous" or not staff:
            if name == "admin:login":
                return None if status in (200, 302) else "admin sign-in refused"
            ok = status == 302 and "/admin/login/" in location
            return None if ok else "customers and visitors must be sent to the admin's sign-in"
        permission = admin_permission(route)
        if permission is None:
            return None
        if not granted(STAFF_ROLES[role], permission):
            return (
                None
                if status in (403, 302) and "/admin/login" not in location
                else (f"not granted {permission} but answered {status}")
            )
        return None
    if name in PUBLIC:
        return None
    if name.startswith("kb:"):
        # The help centre is public (private articles 404 for whoever may not read them; the
        # fuzzed slug names no article). tests/tickets/kb checks visibility per plan.
        return None if status in (200, 404) else f"help centre answered {status}"
    if role == "anonymous":
        ok = status == 302 and "/accounts/login/" in location
        return None if ok else "anonymous must be sent to sign in"
    if name.startswith(("reports:", "kb_reports:")):
        expected = 200 if role == "manager" else 403
        return None if status == expected else f"report expected {expected}"
    if role == "outsider" and ACME_OBJECT_PARAMS & set(route.params):
        return None if status == 404 else "an outsider reached an Acme object"
    if role == "colleague" and name in (
        "tickets:contact_add",
        "tickets:contact_remove",
        "tickets:invitation_resend",
    ):
        return None if status == 404 else "only the organization's admin manages contacts"
    if staff and name.startswith("tickets:") and set(route.params) & ACME_OBJECT_PARAMS:
        return None if status == 404 else "staff are not customers of Acme"
    if role == "owner" and status in (401, 403, 404) and name != "invitation":
        return f"the owner was refused ({status})"  # 400: an empty form, answered as such
    return None


def test_every_url_answers_each_role_as_its_tenant_and_role_allow(
    world: World, mailoutbox: list, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        users = build(world)
        owner = Client()
        owner.force_login(world.alice.user)
        owner.post("/plan/contacts/add/", {"email": "dora@acme.example", "role": "contact"})
    routes = all_routes()
    values = {route: real_values(route, world) for route in routes}
    from plans.models import ContactInvitation  # noqa: PLC0415 - after the world exists

    invitation = ContactInvitation.objects.get()
    failures, checked = [], 0
    order = [*STAFF_ROLES, *CUSTOMER_ROLES]
    for role in order:
        client = Client(raise_request_exception=False)
        if users[role] is not None:
            client.force_login(users[role])
        for route in routes:
            filled = dict(values[route])
            if route.name == "tickets:invitation_resend":
                filled["pk"] = str(invitation.pk)
            if route.name == "admin:logout" or route.name == "logout":
                continue  # would end this client's session for the routes after it
            if route.name in OPERATIONS:
                continue  # no tenant's data: tests/helpdesk/test_health.py and test_metrics.py
            response = fetch(client, route.fill(filled))
            checked += 1
            why = problem(role, route, response.status_code, response.get("Location", ""))
            if why:
                failures.append(
                    f"{role:9} {response.status_code} {route.name or route.template}: {why}"
                )
    print(f"tenants: {len(routes)} URL patterns x {len(order)} roles = {checked} requests")
    assert not failures, "\n".join(failures)


def test_an_agent_cannot_change_the_published_policy(world: World) -> None:
    from sla.models import Target  # noqa: PLC0415 - models of the layer under test

    target = Target.objects.select_related("plan").first()
    agent = AgentFactory.create(username="tenant-agent-2")
    agent.groups.add(Group.objects.get(name=AGENTS))
    client = Client()
    client.force_login(agent)
    page = client.get(f"/admin/sla/target/{target.pk}/change/")
    assert page.status_code == 200  # read-only
    before = target.first_response
    refused = client.post(
        f"/admin/sla/target/{target.pk}/change/",
        {"plan": target.plan_id, "severity": target.severity_id, "first_response": "1m"},
    )
    assert refused.status_code == 403
    target.refresh_from_db()
    assert target.first_response == before
