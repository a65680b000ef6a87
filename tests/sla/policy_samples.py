"""A small, complete policy used by the loader tests (plain data, edited per test)."""

import copy
from typing import Any

BASE: dict[str, Any] = {
    "policy": {"slug": "acme", "name": "Acme support", "not_covered": ["Custom code"]},
    "calendars": [
        {
            "slug": "uk-business",
            "name": "Weekdays 9am-6pm UK",
            "timezone": "Europe/London",
            "hours": {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
            "holidays": {"country": "GB", "subdivision": "ENG", "extra": ["2026-12-24"]},
        },
        {"slug": "always", "name": "24x7", "timezone": "UTC", "always_open": True},
    ],
    "severities": [
        {"level": 1, "name": "Critical", "definition": "Down for everyone", "examples": ["Outage"]},
        {"level": 2, "name": "Major", "definition": "Degraded"},
    ],
    "plans": [
        {
            "slug": "acme-basic",
            "name": "Basic",
            "calendar": "uk-business",
            "entitlements": {"channels": ["portal", "email"], "named_contacts": 1},
            "targets": [{"severity": 2, "first_response": "9h"}],
        },
        {
            "slug": "acme-pro",
            "name": "Pro",
            "calendar": "uk-business",
            "base_plan": "acme-basic",
            "entitlements": {
                "channels": ["portal", "email", "phone"],
                "named_contacts": 2,
                "technical_account_manager": "optional",
                "post_incident_reports": [1],
            },
            "categories": [{"slug": "outage", "name": "Outage", "severities": [1]}],
            "targets": [
                {"severity": 1, "calendar": "always", "acknowledge": "1h", "first_response": "3h"},
                {"severity": 2, "first_response": "1h30m"},
                {"severity": 1, "category": "outage", "calendar": "always", "acknowledge": "30m"},
            ],
            "escalations": [
                {"severity": 1, "metric": "resolution", "after": "2h", "notify": ["queue"]},
                {
                    "severity": 1,
                    "metric": "first_response",
                    "after": "75%",
                    "notify": ["support_managers", "group:directors"],
                    "move_to": "l2",
                },
            ],
        },
    ],
}


def sample(**edits: Any) -> dict[str, Any]:
    """A deep copy of BASE; keyword edits replace top-level keys."""
    data = copy.deepcopy(BASE)
    data.update(edits)
    return data
