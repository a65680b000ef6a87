import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from plans.models import Plan, PlanCondition, Policy, Severity, TicketCategory
from sla.models import BusinessCalendar, Closure, EscalationRule, OpenPeriod, SupportHours, Target
from sla.policy.loader import load_policy_file
from sla.policy.schema import PolicyError
from tests.sla.policy_samples import sample

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "policies").glob("*.yaml"))
MODELS = (
    Policy,
    Severity,
    Plan,
    TicketCategory,
    BusinessCalendar,
    OpenPeriod,
    Closure,
    SupportHours,
    Target,
    EscalationRule,
)

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, data: dict[str, Any], name: str = "acme.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    return {model.__name__: sorted(map(str, model.objects.values_list())) for model in MODELS}


def test_a_policy_file_loads_every_part(tmp_path: Path) -> None:
    load_policy_file(write(tmp_path, sample()))
    pro = Plan.objects.get(slug="acme-pro")
    assert pro.base_plan == Plan.objects.get(slug="acme-basic")
    assert pro.support_hours.calendar.slug == "uk-business"
    assert pro.targets.count() == 3
    assert pro.escalation_rules.get(after_percent=75).move_to == "l2"
    assert pro.categories.get().severity_levels == [1]
    assert OpenPeriod.objects.filter(calendar__slug="uk-business").count() == 5


def test_public_holidays_and_extra_dates_become_closures(tmp_path: Path) -> None:
    load_policy_file(write(tmp_path, sample()))
    closures = Closure.objects.filter(calendar__slug="uk-business")
    assert closures.get(date="2026-12-24").source == Closure.Source.POLICY
    assert closures.get(date="2026-12-25").source == Closure.Source.HOLIDAY
    assert closures.filter(date="2027-12-28").exists()  # Boxing Day observed


def test_loading_twice_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, sample())
    load_policy_file(path)
    before = snapshot()
    again = load_policy_file(path)
    assert again.changes == []
    assert snapshot() == before


def test_a_dry_run_writes_nothing_and_lists_what_it_would_create(tmp_path: Path) -> None:
    result = load_policy_file(write(tmp_path, sample()), dry_run=True)
    assert Policy.objects.count() == 0
    assert Closure.objects.count() == 0
    assert "plan acme-pro" in [c.what for c in result.changes if c.action == "create"]


def test_a_dry_run_lists_changes_and_removals(tmp_path: Path) -> None:
    load_policy_file(write(tmp_path, sample()))
    data = sample()
    data["plans"][1]["targets"][1]["first_response"] = "2h"
    del data["plans"][0]
    data["plans"][0].pop("base_plan")
    result = load_policy_file(write(tmp_path, data), dry_run=True)
    said = {(c.action, c.what) for c in result.changes}
    assert ("update", "plan acme-pro target severity 2") in said
    assert ("remove", "plan acme-basic") in said
    assert Plan.objects.filter(slug="acme-basic").exists()


def test_a_plan_dropped_from_the_file_is_removed(tmp_path: Path) -> None:
    load_policy_file(write(tmp_path, sample()))
    data = sample()
    del data["plans"][0]
    data["plans"][0].pop("base_plan")
    load_policy_file(write(tmp_path, data))
    assert list(Plan.objects.values_list("slug", flat=True)) == ["acme-pro"]


def test_changed_hours_replace_the_periods(tmp_path: Path) -> None:
    load_policy_file(write(tmp_path, sample()))
    data = sample()
    data["calendars"][0]["hours"]["sat"] = ["09:00-16:00"]
    result = load_policy_file(write(tmp_path, data))
    assert ("update", "calendar uk-business") in {(c.action, c.what) for c in result.changes}
    assert OpenPeriod.objects.filter(calendar__slug="uk-business", weekday=5).count() == 1


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["plans"][1]["targets"][0].update(respond="1h"), "unknown key 'respond'"),
        (lambda d: d["plans"][1]["targets"][1].update(first_response="2d"), "is not a duration"),
        (lambda d: d["plans"][1]["targets"][0].update(severity=5), "no severity 5"),
        (lambda d: d["plans"][0].update(calendar="mars"), "no calendar 'mars'"),
        (lambda d: d["calendars"][0].update(timezone="Mars/Olympus"), "not an IANA time zone"),
        (
            lambda d: d["calendars"][0]["hours"].update(mon=["09:00-13:00", "12:00-18:00"]),
            "overlaps",
        ),
        (lambda d: d["calendars"][0]["hours"].update(tue=["18:00-09:00"]), "ends before"),
    ],
    ids=[
        "unknown-key",
        "bad-duration",
        "unknown-severity",
        "unknown-calendar",
        "bad-zone",
        "overlap",
        "end-before-start",
    ],
)
def test_a_bad_file_changes_nothing(tmp_path: Path, edit: Any, message: str) -> None:
    load_policy_file(write(tmp_path, sample()))
    before = snapshot()
    data = sample()
    data["plans"][1]["targets"][1]["first_response"] = "5h"  # a good change that must not land
    edit(data)
    with pytest.raises(PolicyError) as caught:
        load_policy_file(write(tmp_path, data))
    assert any(message in error for error in caught.value.errors)
    assert snapshot() == before


def test_a_plan_slug_of_another_policy_is_refused(tmp_path: Path) -> None:
    load_policy_file(write(tmp_path, sample()))
    data = sample(policy={"slug": "other", "name": "Other"})
    with pytest.raises(PolicyError) as caught:
        load_policy_file(write(tmp_path, data, "other.yaml"))
    assert "plans[0].slug: 'acme-basic' already belongs to policy 'acme'" in caught.value.errors


def test_json_files_load_too(tmp_path: Path) -> None:
    path = tmp_path / "acme.json"
    path.write_text(json.dumps(sample()), encoding="utf-8")
    load_policy_file(path)
    assert Plan.objects.filter(policy__slug="acme").count() == 2


def test_a_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("calendars:\n  - slug: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)
    assert "broken.yaml:" in caught.value.errors[0]
    assert "not valid YAML" in caught.value.errors[0]


def test_the_command_prints_errors_and_fails(tmp_path: Path) -> None:
    data = sample()
    data["plans"][1]["targets"][0]["severity"] = 5
    with pytest.raises(CommandError, match=r"plans\[1\]\.targets\[0\]\.severity: no severity 5"):
        call_command("load_policy", str(write(tmp_path, data)))


def test_the_command_dry_run_says_nothing_was_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("load_policy", str(write(tmp_path, sample())), "--dry-run")
    out = capsys.readouterr().out
    assert "+ plan acme-pro" in out
    assert "Dry run: nothing was written." in out
    assert Policy.objects.count() == 0


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_each_example_policy_loads(path: Path) -> None:
    result = load_policy_file(path)
    assert result.count("create") > 0
    assert load_policy_file(path).changes == []


def test_all_example_policies_load_together() -> None:
    assert len(EXAMPLES) == 5
    call_command("load_policy", *map(str, EXAMPLES), verbosity=0)
    assert Policy.objects.count() == 5


@pytest.mark.parametrize("name", ["agency", "moboom", "openback", "prismic", "vmoso"])
def test_each_example_policy_loads_twice_without_changes(name: str) -> None:
    path = Path(f"examples/policies/{name}.yaml")
    load_policy_file(path)
    assert load_policy_file(path).changes == []


def test_the_new_promises_are_stored() -> None:
    for name in ("openback", "prismic", "vmoso", "agency"):
        load_policy_file(Path(f"examples/policies/{name}.yaml"))
    assert Plan.objects.get(slug="openback-enterprise").priority == 2
    assert list(
        PlanCondition.objects.filter(plan__slug="openback-pro").values_list("slug", "limit")
    ) == [("technical-onboarding", "base_plan"), ("sdk-included", "no_technical_support")]
    openback = Policy.objects.get(slug="openback")
    assert (openback.unwarranted_warn_after, openback.unwarranted_period_months) == (3, 3)
    assert BusinessCalendar.objects.get(policy__slug="vmoso").follows_organization is True
    premium = Target.objects.get(
        plan__slug="prismic-enterprise-premium", severity__level=2, category=None
    )
    assert premium.assigned_until_resolved is True
    assert premium.wording["acknowledge"] == "Acknowledge within four (4) hours"
    assert Plan.objects.get(slug="agency-on-demand").all_time_billed is True
    assert Plan.objects.get(slug="prismic-enterprise-advanced").enablement_hours_capped is True
