import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from sla.policy.loader import load_policy_file
from tests.sla.policy_samples import sample

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def acme(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(sample()), encoding="utf-8")
    load_policy_file(path)


def calculate(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    if stdin is not None:
        old, sys.stdin = sys.stdin, io.StringIO(stdin)
        try:
            call_command("sla_calculator", *args, stdout=out)
        finally:
            sys.stdin = old
    else:
        call_command("sla_calculator", *args, stdout=out)
    return out.getvalue()


def ask(**query: Any) -> dict[str, Any]:
    args = [f"--{key}={value}" for key, value in query.items()]
    return json.loads(calculate(*args))


def test_it_prints_every_target_and_escalation_in_utc() -> None:
    # Friday 20 Nov 2026, 17:30 in London (GMT): severity 1 runs 24x7.
    result = ask(plan="acme-pro", severity=1, at="2026-11-20T17:30:00+00:00")
    assert result == {
        "plan": "acme-pro",
        "severity": 1,
        "opened_at": "2026-11-20T17:30:00Z",
        "targets": {
            "acknowledge": "2026-11-20T18:30:00Z",
            "first_response": "2026-11-20T20:30:00Z",
            "resolution": None,
        },
        "escalations": [
            {"metric": "resolution", "at": "2026-11-20T19:30:00Z", "notify": ["queue"]},
            {
                "metric": "first_response",
                "at": "2026-11-20T19:45:00Z",
                "notify": ["support_managers", "group:directors"],
            },
        ],
    }


def test_a_severity_without_a_target_row_has_no_guarantee() -> None:
    result = ask(plan="acme-basic", severity=1, at="2026-11-20T10:00:00Z")
    assert result["targets"] == {"acknowledge": None, "first_response": None, "resolution": None}
    assert result["escalations"] == []


def test_business_hours_targets_wait_for_monday() -> None:
    # 1h30m from Friday 17:30 London: 30 minutes on Friday, an hour on Monday.
    result = ask(plan="acme-pro", severity=2, at="2026-11-20T17:30:00Z")
    assert result["targets"]["first_response"] == "2026-11-23T10:00:00Z"


def test_the_category_row_refines_the_target() -> None:
    result = ask(plan="acme-pro", severity=1, at="2026-11-20T17:30:00Z", category="outage")
    assert result["category"] == "outage"
    assert result["targets"]["acknowledge"] == "2026-11-20T18:00:00Z"
    assert result["targets"]["first_response"] is None


def test_an_offset_in_another_zone_is_read_as_the_same_instant() -> None:
    result = ask(plan="acme-pro", severity=1, at="2026-11-20T12:30:00-05:00")
    assert result["opened_at"] == "2026-11-20T17:30:00Z"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"plan": "nope", "severity": 1, "at": "2026-11-20T10:00:00Z"}, "no plan 'nope'"),
        ({"plan": "acme-pro", "severity": 7, "at": "2026-11-20T10:00:00Z"}, "has no severity 7"),
        ({"plan": "acme-pro", "severity": 1, "at": "tomorrow"}, "not an ISO 8601 instant"),
        ({"plan": "acme-pro", "severity": 1, "at": "2026-11-20T10:00:00"}, "has no UTC offset"),
        (
            {"plan": "acme-pro", "severity": 2, "at": "2026-11-20T10:00:00Z", "category": "outage"},
            "takes severities [1] only",
        ),
        (
            {"plan": "acme-pro", "severity": 1, "at": "2026-11-20T10:00:00Z", "category": "x"},
            "has no category 'x'",
        ),
    ],
)
def test_bad_questions_get_a_clear_error(query: dict[str, Any], message: str) -> None:
    with pytest.raises(CommandError, match=message.replace("[", r"\[").replace("]", r"\]")):
        ask(**query)


def test_missing_arguments_are_named() -> None:
    with pytest.raises(CommandError, match="missing --severity, --at"):
        calculate("--plan=acme-pro")


def test_batch_answers_each_line_in_order_and_reports_errors_inline() -> None:
    lines = [
        {"plan": "acme-pro", "severity": 1, "at": "2026-11-20T17:30:00Z"},
        {"plan": "ghost", "severity": 1, "at": "2026-11-20T17:30:00Z"},
        {"plan": "acme-pro", "severity": 2, "at": "2026-11-20T17:30:00Z"},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"
    out = [json.loads(line) for line in calculate("--batch", "-", stdin=text).splitlines()]
    assert len(out) == 4
    assert out[0]["targets"]["first_response"] == "2026-11-20T20:30:00Z"
    assert out[1] == {"error": "line 2: no plan 'ghost'"}
    assert out[2]["targets"]["first_response"] == "2026-11-23T10:00:00Z"
    assert out[3]["error"].startswith("line 4: not JSON")


def test_batch_reads_the_database_once_per_plan_and_severity(
    django_assert_max_num_queries: Any,
) -> None:
    queries = [
        {"plan": "acme-pro", "severity": 2, "at": f"2026-11-{day:02d}T{hour:02d}:15:00Z"}
        for day in range(1, 29)
        for hour in range(24)
    ]
    text = "\n".join(json.dumps(q) for q in queries)
    calculate("--batch", "-", stdin=text)  # warm: holiday rows exist after this
    with django_assert_max_num_queries(12):
        out = calculate("--batch", "-", stdin=text).splitlines()
    assert len(out) == len(queries)
