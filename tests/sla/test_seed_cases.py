"""Hand-worked cases from every seed policy, read as a customer would read the policy.

Each loads the example policy and asks the calculator, so the policy file, the loader, the
calendars with their holidays and the clock are checked together.
"""

import json
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def due(policy: str, plan: str, severity: int, at: str, category: str | None = None) -> dict:
    call_command("load_policy", f"examples/policies/{policy}.yaml", stdout=StringIO())
    out = StringIO()
    args = ["--plan", plan, "--severity", str(severity), "--at", at]
    if category:
        args += ["--category", category]
    call_command("sla_calculator", *args, stdout=out)
    return json.loads(out.getvalue())


def test_openback_pro_severity_1_opened_friday_1730_london_is_due_3_hours_later() -> None:
    # "Severity 1: 3 hours, 24x7": Friday 20 November 2026, London is on GMT.
    result = due("openback", "openback-pro", 1, "2026-11-20T17:30:00Z")
    assert result["targets"]["first_response"] == "2026-11-20T20:30:00Z"


def test_openback_enterprise_severity_3_opened_friday_1700_uses_saturday_hours() -> None:
    # 12 business hours: Fri 17-18 (1h), Sat 9-16 (7h), Mon 9-13 (4h).
    result = due("openback", "openback-enterprise", 3, "2026-11-20T17:00:00Z")
    assert result["targets"]["first_response"] == "2026-11-23T13:00:00Z"


def test_openback_pro_severity_3_from_the_same_friday_waits_for_weekdays() -> None:
    # 18 business hours without Saturday: Fri 1h, Mon 9h, Tue 8h -> Tue 17:00.
    result = due("openback", "openback-pro", 3, "2026-11-20T17:00:00Z")
    assert result["targets"]["first_response"] == "2026-11-24T17:00:00Z"


def test_openback_severity_1_in_british_summer_time_counts_real_hours() -> None:
    # Friday 26 June 2026 17:30 BST is 16:30 UTC; 3 hours later is 19:30 UTC.
    result = due("openback", "openback-pro", 1, "2026-06-26T17:30:00+01:00")
    assert result["targets"]["first_response"] == "2026-06-26T19:30:00Z"


def test_vmoso_priority_4_before_a_weekend_and_martin_luther_king_day() -> None:
    # Friday 15 Jan 2027 16:30 Pacific: 0.5h Friday, weekend, Monday 18 Jan is a US holiday,
    # Tuesday 8h, Wednesday 7.5h -> Wednesday 16:30 Pacific (00:30 UTC Thursday).
    result = due("vmoso", "vmoso-standard", 4, "2027-01-16T00:30:00Z")
    assert result["targets"]["first_response"] == "2027-01-21T00:30:00Z"


def test_vmoso_priority_1_ladder_counts_business_hours() -> None:
    # Friday 20 Nov 2026 16:00 Pacific: 1h left on Friday, then Monday 9:00 Pacific.
    result = due("vmoso", "vmoso-standard", 1, "2026-11-21T00:00:00Z")
    assert result["targets"]["first_response"] == "2026-11-23T18:00:00Z"  # Mon 10:00 PST
    assert [(e["at"], e["notify"]) for e in result["escalations"]] == [
        ("2026-11-23T18:00:00Z", ["customer_success_manager"]),
        ("2026-11-23T19:00:00Z", ["group:directors"]),
    ]


def test_moboom_partner_level_2_on_a_saturday_waits_for_monday() -> None:
    # Saturday 21 Nov 2026 10:00 Pacific: weekend coverage is limited to level 1.
    result = due("moboom", "moboom-partner", 2, "2026-11-21T18:00:00Z")
    assert result["targets"]["first_response"] == "2026-11-23T12:00:00Z"  # Mon 04:00 PST


def test_moboom_partner_level_1_on_a_saturday_does_not_wait() -> None:
    result = due("moboom", "moboom-partner", 1, "2026-11-21T18:00:00Z")
    assert result["targets"]["first_response"] == "2026-11-21T18:30:00Z"


def test_moboom_premium_level_1_after_hours_waits_for_the_next_business_morning() -> None:
    # Thursday 19 Nov 2026 18:00 Pacific -> Friday 09:30 Pacific.
    result = due("moboom", "moboom-premium", 1, "2026-11-20T02:00:00Z")
    assert result["targets"]["first_response"] == "2026-11-20T17:30:00Z"


def test_prismic_premium_acknowledge_and_initial_response_on_business_hours() -> None:
    # Friday 20 Nov 2026 17:30 Paris: 30 min on Friday, the rest on Monday from 9:00 Paris.
    result = due(
        "prismic", "prismic-enterprise-premium", 1, "2026-11-20T16:30:00Z", category="issue-report"
    )
    assert result["targets"]["acknowledge"] == "2026-11-23T08:30:00Z"
    assert result["targets"]["first_response"] == "2026-11-23T11:30:00Z"


def test_prismic_api_outage_is_answered_around_the_clock_and_pages_on_call() -> None:
    result = due(
        "prismic", "prismic-enterprise-premium", 1, "2026-11-21T22:00:00Z", category="api-outage"
    )
    assert result["targets"]["acknowledge"] == "2026-11-21T23:00:00Z"
    assert result["targets"]["first_response"] == "2026-11-22T02:00:00Z"
    assert result["escalations"] == [
        {"metric": "acknowledge", "at": "2026-11-21T22:00:00Z", "notify": ["group:on-call"]}
    ]


def test_prismic_category_3_has_no_response_guarantee() -> None:
    result = due(
        "prismic", "prismic-enterprise-premium", 3, "2026-11-20T16:30:00Z", category="issue-report"
    )
    assert result["targets"] == {"acknowledge": None, "first_response": None, "resolution": None}


def test_agency_packages_promise_no_response_times() -> None:
    result = due("agency", "agency-10h", 1, "2026-11-20T16:30:00Z")
    assert result["targets"] == {"acknowledge": None, "first_response": None, "resolution": None}
