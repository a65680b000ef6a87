"""The admin permissions each staff role holds, and the groups that carry them.

The role names and the checks of who holds one live in `plans.roles`; this table names models of
every app, so it lives in `tickets`, the app that sees them all. The groups are created by a
data migration (`tickets/migrations/0006_staff_roles.py`) and kept by the demo; both call
`sync_role_groups`. Permissions are named by `app_label.model` strings, the admin's vocabulary.
"""

from __future__ import annotations

from typing import Any

from plans.roles import AGENTS, POLICY_ADMINISTRATORS, SUPPORT_MANAGERS

VIEW = ("view",)
WORK = ("view", "change")
ALL = ("add", "change", "delete", "view")

# What every member of staff may see: the published policy and the customers, read-only.
_POLICY_MODELS = (
    "plans.policy",
    "plans.severity",
    "plans.plan",
    "plans.ticketcategory",
    "sla.businesscalendar",
    "sla.openperiod",
    "sla.closure",
    "sla.supporthours",
    "sla.target",
    "sla.escalationrule",
)
_AGENT: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_POLICY_MODELS, VIEW),
    "plans.organization": VIEW,
    "plans.contract": VIEW,
    "plans.namedcontact": VIEW,
    "plans.namedcontactchange": VIEW,
    "plans.policychange": VIEW,
    "admin.logentry": VIEW,
    "sla.slaclock": VIEW,
    "sla.escalationfiring": VIEW,
    # Agents work tickets and time.
    "tickets.ticket": WORK,
    "tickets.customerescalation": WORK,
    "tickets.ticketevent": VIEW,
    "tickets.queue": VIEW,
    "tickets.timeentry": ALL,
}
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    AGENTS: _AGENT,
    # Managers also: reports (by membership), organizations, contracts, contacts, queues, and
    # unlocking sign-ins (django-axes' attempts).
    SUPPORT_MANAGERS: {
        **_AGENT,
        "plans.organization": ALL,
        "plans.contract": ALL,
        "plans.pooledmonths": ALL,
        "plans.namedcontact": ALL,
        "plans.contactinvitation": VIEW,
        "tickets.queue": ALL,
        "axes.accessattempt": ("view", "delete"),
        "axes.accesslog": VIEW,
        "axes.accessfailurelog": VIEW,
    },
    # Policy administrators also: the policy (calendars, plans, targets, rules).
    POLICY_ADMINISTRATORS: {**_AGENT, **dict.fromkeys(_POLICY_MODELS, ALL)},
}


def sync_role_groups(apps: Any) -> None:
    """Create the role groups and set exactly their permissions (idempotent).

    `apps` is a migration's historical registry or `django.apps.apps`. Permissions of models
    not installed are skipped, so a role never fails to sync.
    """
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, grants in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        wanted = []
        for label, actions in grants.items():
            app_label, model = label.split(".")
            wanted += [(app_label, f"{action}_{model}") for action in actions]
        permissions = [
            permission
            for permission in permission_model.objects.filter(
                codename__in={codename for _, codename in wanted}
            ).select_related("content_type")
            if (permission.content_type.app_label, permission.codename) in set(wanted)
        ]
        group.permissions.set(permissions)
