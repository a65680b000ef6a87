from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from plans.choices import Channel, TamOption
from sla.choices import WEEKDAY_KEYS, Metric, NotifyRole, Weekday
from sla.policy.schema import PolicyError, parse_duration, parse_period, parse_policy
from tests.sla.policy_samples import sample


def errors_of(data: object) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(data, default_slug="fallback")
    return caught.value.errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("45s", timedelta(seconds=45)),
        (0, timedelta(0)),
    ],
)
def test_durations_are_read_in_the_policy_notation(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "4", "1d", "h", "2 hours", "-1h", 3, True, "1m30h"])
def test_bad_durations_are_refused(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_a_period_may_end_at_midnight() -> None:
    assert parse_period("18:00-24:00") == (1080, 1440)


def test_a_period_ending_before_it_starts_is_refused_with_advice() -> None:
    with pytest.raises(ValueError, match="overnight shift as two periods"):
        parse_period("22:00-06:00")


def test_the_sample_policy_parses_completely() -> None:
    spec = parse_policy(sample(), default_slug="x")
    assert spec.slug == "acme"
    assert [c.slug for c in spec.calendars] == ["uk-business", "always"]
    assert spec.calendars[0].holiday_countries == ["GB-ENG"]
    pro = spec.plans[1]
    assert pro.base_plan == "acme-basic"
    assert pro.escalations[1].after_percent == 75
    assert pro.targets[1].first_response == timedelta(hours=1, minutes=30)


def test_the_file_name_gives_the_slug_when_the_policy_block_is_absent() -> None:
    data = sample()
    del data["policy"]
    assert parse_policy(data, default_slug="from-file").slug == "from-file"


def test_an_unknown_key_is_named_with_its_path() -> None:
    data = sample()
    data["plans"][1]["targets"][0]["respond"] = "1h"
    assert "plans[1].targets[0].respond: unknown key 'respond'" in errors_of(data)


def test_a_bad_duration_names_its_field() -> None:
    data = sample()
    data["plans"][1]["targets"][1]["first_response"] = "2 hours"
    assert any(
        e.startswith("plans[1].targets[1].first_response: '2 hours'") for e in errors_of(data)
    )


def test_an_unknown_severity_is_named() -> None:
    data = sample()
    data["plans"][1]["targets"][0]["severity"] = 5
    assert "plans[1].targets[0].severity: no severity 5" in errors_of(data)


def test_an_unknown_calendar_is_named() -> None:
    data = sample()
    data["plans"][0]["calendar"] = "mars-hours"
    assert "plans[0].calendar: no calendar 'mars-hours'" in errors_of(data)


def test_a_bad_time_zone_is_named() -> None:
    data = sample()
    data["calendars"][0]["timezone"] = "Europe/Atlantis"
    assert any(e.startswith("calendars[0].timezone: 'Europe/Atlantis'") for e in errors_of(data))


def test_overlapping_periods_are_refused() -> None:
    data = sample()
    data["calendars"][0]["hours"]["mon"] = ["09:00-13:00", "12:00-18:00"]
    assert "calendars[0].hours.mon[1]: overlaps the mon period before it" in errors_of(data)


def test_a_period_ending_before_its_start_is_named() -> None:
    data = sample()
    data["calendars"][0]["hours"]["tue"] = ["18:00-09:00"]
    assert any(
        e.startswith("calendars[0].hours.tue[0]: '18:00-09:00' ends before")
        for e in errors_of(data)
    )


def test_a_percentage_without_a_target_is_refused() -> None:
    data = sample()
    data["plans"][1]["escalations"][0]["after"] = "50%"
    assert any(
        e.startswith("plans[1].escalations[0].after: 50% needs a resolution target")
        for e in errors_of(data)
    )


def test_a_rule_on_a_metric_without_target_is_accepted_with_an_offset() -> None:
    spec = parse_policy(sample(), default_slug="x")
    rule = spec.plans[1].escalations[0]
    assert (rule.metric, rule.after) == ("resolution", timedelta(hours=2))


def test_an_unknown_recipient_is_refused() -> None:
    data = sample()
    data["plans"][1]["escalations"][0]["notify"] = ["the boss"]
    assert any(
        e.startswith("plans[1].escalations[0].notify[0]: 'the boss'") for e in errors_of(data)
    )


def test_an_unknown_holiday_country_is_refused() -> None:
    data = sample()
    data["calendars"][0]["holidays"] = {"countries": ["GB-ENG", "XX"]}
    assert any(e.startswith("calendars[0].holidays.countries[1]: 'XX'") for e in errors_of(data))


def test_an_unknown_subdivision_is_refused() -> None:
    data = sample()
    data["calendars"][0]["holidays"] = {"country": "GB", "subdivision": "MARS"}
    assert any(e.startswith("calendars[0].holidays.subdivision: 'MARS'") for e in errors_of(data))


def test_a_repeated_target_row_is_refused() -> None:
    data = sample()
    data["plans"][1]["targets"].append({"severity": 2, "first_response": "2h"})
    assert any(e.startswith("plans[1].targets[3]: repeats targets[1]") for e in errors_of(data))


def test_every_error_is_reported_at_once() -> None:
    data = sample()
    data["plans"][0]["calendar"] = "nope"
    data["severities"][0]["level"] = "one"
    assert len(errors_of(data)) >= 2


def test_a_missing_required_field_is_named() -> None:
    data = sample()
    del data["plans"][0]["name"]
    assert "plans[0].name: is required" in errors_of(data)


def test_a_non_mapping_document_is_refused() -> None:
    assert errors_of(["not", "a", "policy"])[0].startswith("(top): expected a mapping")


# -- issue 13: what the policy file can now say --------------------------------------------------


def test_the_new_promises_are_read() -> None:
    data = sample()
    data["policy"]["includes"] = ["Root cause analysis"]
    data["policy"]["prerequisites"] = ["Comfort with web technologies"]
    data["policy"]["contact"] = "support@acme.example"
    data["policy"]["unwarranted_escalation_charges"] = {
        "warn_after": 3,
        "period_months": 3,
        "charge": 150,
    }
    data["calendars"][0]["timezone"] = "organization"
    data["calendars"][0]["fallback_timezone"] = "America/Los_Angeles"
    plan = data["plans"][0]
    plan["priority"] = 2
    plan["entitlements"].update(all_time_billed=True, enablement_hours_capped=True)
    plan["conditions"] = [
        {"slug": "sdk", "name": "SDK included", "limit": "no_technical_support"},
    ]
    plan["targets"][0].update(wording="Under 1 business day", assigned_until_resolved=True)
    spec = parse_policy(data, default_slug="x")
    assert (spec.includes, spec.prerequisites, spec.contact) == (
        ["Root cause analysis"],
        ["Comfort with web technologies"],
        "support@acme.example",
    )
    assert (spec.unwarranted_warn_after, spec.unwarranted_period_months) == (3, 3)
    assert str(spec.unwarranted_charge) == "150.00"
    calendar = spec.calendars[0]
    assert (calendar.follows_organization, calendar.timezone) == (True, "America/Los_Angeles")
    parsed = spec.plans[0]
    assert parsed.priority == 2
    assert parsed.entitlements["all_time_billed"] is True
    assert parsed.conditions[0].limit == "no_technical_support"
    assert parsed.targets[0].wording == {"first_response": "Under 1 business day"}
    assert parsed.targets[0].assigned_until_resolved is True


def test_bad_new_fields_are_named_by_path() -> None:
    data = sample()
    plan = data["plans"][0]
    plan["priority"] = "high"
    plan["conditions"] = [{"slug": "sdk", "name": "SDK", "limit": "nothing"}]
    plan["targets"][0]["wording"] = {"acknowledge": "1 hour"}
    data["policy"]["unwarranted_escalation_charges"] = {"warn_after": 0, "period_months": 3}
    errors = errors_of(data)
    assert "plans[0].priority: expected a whole number (higher goes first), got 'high'" in errors
    assert (
        "plans[0].conditions[0].limit: 'nothing' is not one of base_plan, no_technical_support"
        in errors
    )
    assert "plans[0].targets[0].wording.acknowledge: no acknowledge target in this row" in errors
    assert "policy.unwarranted_escalation_charges.warn_after: must be at least 1" in errors
    assert "policy.unwarranted_escalation_charges.charge: is required" in errors


def test_plan_priorities_follow_each_seed() -> None:

    def priorities(name: str) -> dict[str, int]:
        text = Path(f"examples/policies/{name}.yaml").read_text()
        spec = parse_policy(yaml.safe_load(text), default_slug=name)
        return {plan.slug: plan.priority for plan in spec.plans}

    # "issues within support packages take higher priority than the tasks on demand"
    agency = priorities("agency")
    assert min(agency["agency-10h"], agency["agency-40h"]) > agency["agency-on-demand"]
    # Growth < Pro ("priority case routing") < Enterprise ("top priority response times")
    openback = priorities("openback")
    assert openback["openback-growth"] < openback["openback-pro"] < openback["openback-enterprise"]
    prismic = priorities("prismic")
    assert prismic["prismic-basic"] < prismic["prismic-enterprise-advanced"]
    assert prismic["prismic-enterprise-advanced"] < prismic["prismic-enterprise-premium"]
    moboom = priorities("moboom")
    assert moboom["moboom-premium"] < moboom["moboom-partner"]


def test_the_schema_takes_its_vocabularies_from_the_models_choices() -> None:
    """Choices are defined once (plans.choices, sla.choices): a value the models know is a value
    the policy file may write, and the days of `hours` are the models' weekdays in order."""
    data = sample()
    pro = data["plans"][1]
    pro["entitlements"]["channels"] = list(Channel.values)
    pro["entitlements"]["technical_account_manager"] = TamOption.INCLUDED.value
    pro["escalations"][0]["notify"] = list(NotifyRole.values)
    pro["escalations"][0]["metric"] = Metric.ACKNOWLEDGE.value
    data["calendars"][0]["hours"] = {key: ["09:00-17:00"] for key in WEEKDAY_KEYS}
    spec = parse_policy(data, default_slug="fallback")
    assert spec.plans[1].entitlements["channels"] == list(Channel.values)
    assert spec.plans[1].entitlements["technical_account_manager"] == "included"
    assert spec.plans[1].escalations[0].notify == list(NotifyRole.values)
    weekdays = [weekday for weekday, _, _ in spec.calendars[0].periods]
    assert weekdays == [day.value for day in Weekday]


def test_a_value_outside_the_models_choices_is_refused() -> None:
    data = sample()
    data["plans"][1]["entitlements"]["channels"] = ["portal", "pigeon"]
    data["plans"][1]["escalations"][0]["metric"] = "happiness"
    errors = " ".join(errors_of(data))
    assert "pigeon" in errors
    assert "'happiness' is not one of acknowledge, first_response, resolution" in errors
