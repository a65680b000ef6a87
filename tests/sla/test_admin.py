"""The sla admin: every page opens, durations read `1h30m`, calendars and rules edit as written."""

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client

from plans.models import Plan, Policy
from sla.models import BusinessCalendar, Closure, EscalationRule, OpenPeriod, Target
from tests.admin_checks import (
    admin_url,
    check_changelist_queries_do_not_grow,
    check_pages_open,
    form_data,
    model_name,
    registered,
)
from tests.builders.admin_dataset import build_admin_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def data() -> SimpleNamespace:
    return build_admin_dataset()


PAGES = ["changelist", "add", "change"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("model", registered("sla"), ids=model_name)
def test_every_sla_admin_page_opens_for_a_superuser(
    staff: Client, superuser: Any, data: SimpleNamespace, model: type[models.Model], page: str
) -> None:
    check_pages_open(staff, superuser, model, page)


@pytest.mark.parametrize("model", registered("sla"), ids=model_name)
def test_sla_changelists_run_no_query_per_row(
    staff: Client, data: SimpleNamespace, model: type[models.Model]
) -> None:
    check_changelist_queries_do_not_grow(staff, model)


def test_sla_registers_plan_and_policy_pages_with_what_sla_owns() -> None:
    assert type(admin.site._registry[Plan]).__module__ == "sla.admin.plans"
    assert type(admin.site._registry[Policy]).__module__ == "sla.admin.plans"


def test_target_list_shows_durations_as_written_and_no_guarantee(
    staff: Client, data: SimpleNamespace
) -> None:
    response = staff.get(admin_url(Target, "changelist"))
    page = response.content.decode()
    assert '<td class="field-acknowledge_text">1h30m</td>' in page
    assert '<td class="field-first_response_text">3h</td>' in page
    assert '<td class="field-resolution_text">48h</td>' in page
    assert "no guarantee" in page
    assert "1 - Critical" in page


def test_target_list_filters_by_policy_plan_and_severity_level(
    staff: Client, data: SimpleNamespace
) -> None:
    build_admin_dataset("b")
    url = admin_url(Target, "changelist")
    by_plan = staff.get(url, {"plan__id__exact": data.pro.pk})
    assert by_plan.context["cl"].result_count == 3
    by_policy = staff.get(url, {"plan__policy__id__exact": data.policy.pk})
    assert by_policy.context["cl"].result_count == 4
    by_level = staff.get(url, {"severity__level": 2})
    assert by_level.context["cl"].result_count == 4


def test_escalation_rule_list_shows_offsets_percentages_and_recipients(
    staff: Client, data: SimpleNamespace
) -> None:
    page = staff.get(admin_url(EscalationRule, "changelist")).content.decode()
    assert '<td class="field-when">2h</td>' in page
    assert '<td class="field-when">75%</td>' in page
    assert "support_managers, group:directors" in page


def test_plan_page_shows_targets_and_rules_read_only_with_edit_links(
    staff: Client, data: SimpleNamespace
) -> None:
    response = staff.get(admin_url(Plan, "change", data.pro.pk))
    page = response.content.decode()
    for target in Target.objects.filter(plan=data.pro):
        assert admin_url(Target, "change", target.pk) in page
    for rule in EscalationRule.objects.filter(plan=data.pro):
        assert admin_url(EscalationRule, "change", rule.pk) in page
    assert "1h30m" in page and "no guarantee" in page and "75%" in page
    inlines = {inline.formset.model: inline for inline in response.context["inline_admin_formsets"]}
    assert not inlines[Target].has_change_permission
    assert not inlines[EscalationRule].has_add_permission
    assert f"?plan__id__exact={data.pro.pk}" in page
    assert admin_url(Target, "add") + f"?plan={data.pro.pk}" in page


def test_plan_page_offers_only_its_policys_calendars_for_support_hours(
    staff: Client, data: SimpleNamespace
) -> None:
    other = build_admin_dataset("b")
    response = staff.get(admin_url(Plan, "change", data.pro.pk))
    formset = next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model.__name__ == "SupportHours"
    )
    offered = set(formset.forms[0].fields["calendar"].queryset)
    assert offered == {data.uk, data.us}
    assert other.uk not in offered


def test_policy_page_lists_its_calendars_and_links_to_its_targets(
    staff: Client, data: SimpleNamespace
) -> None:
    page = staff.get(admin_url(Policy, "change", data.policy.pk)).content.decode()
    assert admin_url(BusinessCalendar, "change", data.uk.pk) in page
    assert "Mon-Fri 09:00-18:00" in page
    assert f"?plan__policy__id__exact={data.policy.pk}" in page


def test_target_form_reads_and_writes_durations_as_written(
    staff: Client, data: SimpleNamespace
) -> None:
    target = Target.objects.get(plan=data.pro, severity=data.critical, category=None)
    url = admin_url(Target, "change", target.pk)
    post = form_data(staff.get(url))
    assert (post["acknowledge"], post["first_response"]) == ("1h30m", "3h")
    assert "resolution" not in post  # empty: no guarantee
    post.update(acknowledge="45m", resolution="1h30m45s")
    response = staff.post(url, post)
    assert response.status_code == 302, response.context["adminform"].form.errors
    target.refresh_from_db()
    assert target.acknowledge == dt.timedelta(minutes=45)
    assert target.resolution == dt.timedelta(hours=1, minutes=30, seconds=45)


def test_target_form_offers_only_the_plans_policy_and_refuses_a_duplicate(
    staff: Client, data: SimpleNamespace
) -> None:
    other = build_admin_dataset("b")
    response = staff.get(admin_url(Target, "add"), {"plan": data.pro.pk})
    form = response.context["adminform"].form
    assert set(form.fields["severity"].queryset) == {data.critical, data.major}
    assert set(form.fields["category"].queryset) == {data.outage}
    assert other.uk not in set(form.fields["calendar"].queryset)

    response = staff.post(
        admin_url(Target, "add"),
        {"plan": data.pro.pk, "severity": data.major.pk, "calendar": data.uk.pk},
    )
    assert response.status_code == 200
    assert "already has a target for severity 2" in response.content.decode()


def test_target_form_explains_a_bad_duration(staff: Client, data: SimpleNamespace) -> None:
    response = staff.post(
        admin_url(Target, "add"),
        {
            "plan": data.basic.pk,
            "severity": data.critical.pk,
            "calendar": data.uk.pk,
            "acknowledge": "90 minutes",
        },
    )
    assert response.status_code == 200
    assert "is not a duration (write 30m, 4h or 1h30m)" in " ".join(
        response.context["adminform"].form.errors["acknowledge"]
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"after": "2h", "after_percent": "50"}, "after", "either a duration or a percentage"),
        ({"after": "", "after_percent": ""}, "after", "either a duration or a percentage"),
        ({"metric": "resolution"}, "after_percent", "needs a resolution target"),
        ({"notify": "queue\nboss"}, "notify", "'boss' is not a recipient"),
    ],
    ids=["both", "neither", "percent-without-target", "bad-recipient"],
)
def test_escalation_rule_form_explains_what_is_wrong(
    staff: Client, data: SimpleNamespace, changes: dict[str, str], field: str, message: str
) -> None:
    rule = EscalationRule.objects.get(after_percent=75)
    url = admin_url(EscalationRule, "change", rule.pk)
    post = form_data(staff.get(url))
    assert post["notify"] == "support_managers\ngroup:directors"
    post.update(changes)
    response = staff.post(url, post)
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])


def test_calendar_page_edits_open_periods_as_hh_mm(staff: Client, data: SimpleNamespace) -> None:
    url = admin_url(BusinessCalendar, "change", data.us.pk)
    post = form_data(staff.get(url))
    assert (post["periods-0-start_minute"], post["periods-0-end_minute"]) == ("10:00", "24:00")
    post.update({"periods-0-start_minute": "08:30", "periods-0-end_minute": "23:45"})
    response = staff.post(url, post)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(
        OpenPeriod.objects.filter(calendar=data.us).values_list("start_minute", "end_minute")
    ) == [(510, 1425)]


def test_calendar_page_refuses_a_period_that_ends_before_it_starts(
    staff: Client, data: SimpleNamespace
) -> None:
    url = admin_url(BusinessCalendar, "change", data.us.pk)
    post = form_data(staff.get(url))
    post.update({"periods-0-start_minute": "18:00", "periods-0-end_minute": "09:00"})
    response = staff.post(url, post)
    assert response.status_code == 200
    assert "Closes before it opens" in " ".join(
        response.context["inline_admin_formsets"][0].formset.forms[0].errors["end_minute"]
    )
    assert OpenPeriod.objects.get(calendar=data.us).start_minute == 600


def test_calendar_holiday_countries_generate_public_holiday_closures(
    staff: Client, data: SimpleNamespace
) -> None:
    url = admin_url(BusinessCalendar, "change", data.uk.pk)
    post = form_data(staff.get(url))
    post["holiday_countries"] = "GB-ENG"
    response = staff.post(url, post)
    assert response.status_code == 302, response.context["adminform"].form.errors
    data.uk.refresh_from_db()
    assert data.uk.holiday_countries == ["GB-ENG"]
    assert data.uk.closures.filter(source=Closure.Source.HOLIDAY, name="Christmas Day").exists()

    post = form_data(staff.get(url))
    post["holiday_countries"] = "XX"
    response = staff.post(url, post)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["holiday_countries"]
    assert errors == ["'XX' is not a country the holidays package knows."]


def test_calendar_list_shows_zone_holidays_and_weekly_hours(
    staff: Client, data: SimpleNamespace
) -> None:
    page = staff.get(admin_url(BusinessCalendar, "changelist")).content.decode()
    assert "Europe/London" in page
    assert '<td class="field-period_count">5</td>' in page
    assert "Sat 10:00-24:00" in page


def test_keeping_open_on_a_closure_moves_the_calendars_clock_stamp(
    staff: Client, data: SimpleNamespace
) -> None:
    closure = Closure.objects.get(calendar=data.uk)
    stamp = BusinessCalendar.objects.get(pk=data.uk.pk).updated_at
    response = staff.post(
        admin_url(Closure, "changelist"),
        {"action": "keep_open", "_selected_action": [closure.pk]},
    )
    assert response.status_code == 302
    closure.refresh_from_db()
    assert closure.active is False
    assert BusinessCalendar.objects.get(pk=data.uk.pk).updated_at > stamp
