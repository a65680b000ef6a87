"""Form fields: durations and times of day as the policy files write them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from helpdesk.formatting import clock_time, policy_duration
from plans.admin import (
    TextListField,
)
from sla.policy.schema import parse_duration

NO_GUARANTEE = "no guarantee"


def target_text(value: dt.timedelta | None) -> str:
    return NO_GUARANTEE if value is None else policy_duration(value)


class DurationTextField(forms.CharField):
    """A business-time duration written `30m`, `4h` or `1h30m`."""

    widget = forms.TextInput(attrs={"size": 8, "placeholder": "1h30m"})

    def __init__(self, *, hint: str = "Like 30m, 4h or 1h30m.", **kwargs: Any) -> None:
        kwargs["help_text"] = " ".join(part for part in (kwargs.get("help_text"), hint) if part)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return policy_duration(value) if isinstance(value, dt.timedelta) else value

    def to_python(self, value: Any) -> dt.timedelta | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


def target_duration_field(**kwargs: Any) -> DurationTextField:
    return DurationTextField(hint="Like 30m, 4h or 1h30m; empty: no guarantee.", **kwargs)


def rule_offset_field(**kwargs: Any) -> DurationTextField:
    return DurationTextField(
        hint="Like 30m, 4h or 1h30m; or leave empty and give a percentage.", **kwargs
    )


def recipients_field(**kwargs: Any) -> TextListField:
    return TextListField(
        hint="One per line: assignee, queue, customer_success_manager, support_managers, "
        "group:<name> or email:<address>.",
        **kwargs,
    )


def holiday_codes_field(**kwargs: Any) -> TextListField:
    kwargs["help_text"] = "Public holidays from the holidays package: codes like GB-ENG, US."
    return TextListField(separator=",", **kwargs)


class SeverityLevelFilter(admin.AllValuesFieldListFilter):
    """`severity__level`, titled as such."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = "severity level"


class MinuteField(forms.CharField):
    """Minutes since local midnight, written `HH:MM` (`24:00` is the end of the day)."""

    widget = forms.TextInput(attrs={"size": 5, "placeholder": "HH:MM"})
    pattern = re.compile(r"^(\d{1,2}):(\d{2})$")

    def prepare_value(self, value: Any) -> Any:
        return clock_time(value) if isinstance(value, int) else value

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        match = self.pattern.match(text)
        if match is None:
            raise ValidationError(f"{text!r} is not a time like 09:00.")
        hours, minutes = int(match[1]), int(match[2])
        if minutes > 59 or hours * 60 + minutes > 1440:
            raise ValidationError(f"{text!r} is not a time of day (00:00 to 24:00).")
        return hours * 60 + minutes
