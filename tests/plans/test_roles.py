"""Staff roles as groups made by a migration, their permissions, and the policy's change log."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from plans.models import PolicyChange
from plans.roles import (
    AGENTS,
    POLICY_ADMINISTRATORS,
    SUPPORT_MANAGERS,
    is_agent,
    is_support_manager,
)
from tests.factories import AgentFactory, UserFactory, load_example_policy

pytestmark = pytest.mark.django_db


def perms(group: str) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=group).permissions.select_related("content_type")
    }


def test_the_migration_creates_the_three_roles_with_their_permissions() -> None:
    agent, manager, policy = perms(AGENTS), perms(SUPPORT_MANAGERS), perms(POLICY_ADMINISTRATORS)
    assert {"tickets.change_ticket", "tickets.add_timeentry", "sla.view_target"} <= agent
    assert not {"sla.change_target", "plans.change_plan", "plans.change_organization"} & agent
    assert {"plans.change_organization", "plans.add_contract", "axes.delete_accessattempt"} <= (
        manager
    )
    assert "sla.change_target" not in manager
    assert {"sla.change_target", "plans.change_plan", "sla.change_businesscalendar"} <= policy
    assert "axes.delete_accessattempt" not in policy


def test_an_inactive_account_is_neither_agent_nor_manager() -> None:
    user = AgentFactory.create(is_active=False)
    user.groups.add(Group.objects.get(name=SUPPORT_MANAGERS))
    assert not is_agent(user)
    assert not is_support_manager(user)
    assert is_agent(AgentFactory.create())
    assert not is_agent(UserFactory.create())


def test_the_demo_keeps_the_roles_and_assigns_them() -> None:
    load_example_policy("openback")
    Group.objects.get(name=AGENTS).permissions.clear()
    call_command("seed_demo", stdout=StringIO())
    assert "tickets.change_ticket" in perms(AGENTS)
    assert Group.objects.get(name=POLICY_ADMINISTRATORS).user_set.filter(username="policy")
    assert Group.objects.get(name=SUPPORT_MANAGERS).user_set.filter(username="manager")


def test_load_policy_records_who_changed_what_and_when() -> None:
    call_command("load_policy", "examples/policies/openback.yaml", stdout=StringIO())
    change = PolicyChange.objects.get()
    assert change.policy.slug == change.policy_slug
    assert "(load_policy)" in change.by and change.source == "openback.yaml"
    assert "+ plan" in change.summary or "+ " in change.summary
    call_command("load_policy", "examples/policies/openback.yaml", stdout=StringIO())
    assert PolicyChange.objects.count() == 1  # nothing changed: nothing recorded


def test_policy_changes_and_admin_edits_are_visible_in_the_admin() -> None:
    load_example_policy("openback")
    user = AgentFactory.create(username="pol")
    user.groups.add(Group.objects.get(name=POLICY_ADMINISTRATORS))
    client = Client()
    client.force_login(user)
    page = client.get("/admin/plans/policychange/")
    assert page.status_code == 200 and "openback" in page.text
    assert client.get("/admin/admin/logentry/").status_code == 200
    assert (
        client.get(f"/admin/plans/policychange/{PolicyChange.objects.get().pk}/delete/").status_code
        == 403
    )
