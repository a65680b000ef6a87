"""Form fields: JSON lists as the policy files write them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.contrib.admin.options import BaseModelAdmin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.utils.text import capfirst

from helpdesk.http import parse_int
from plans.models import (
    Channel,
    TicketCategory,
)


class TextListField(forms.CharField):
    """A JSON list of texts, edited one per line (or separated by `separator`)."""

    def __init__(self, *, separator: str = "\n", hint: str = "", **kwargs: Any) -> None:
        self.separator = separator
        if separator == "\n":
            kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "cols": 60}))
            hint = hint or "One per line."
        else:
            kwargs.setdefault("widget", forms.TextInput(attrs={"size": 30}))
        kwargs["help_text"] = " ".join(part for part in (kwargs.get("help_text"), hint) if part)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            joiner = "\n" if self.separator == "\n" else f"{self.separator} "
            return joiner.join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[Any]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [part.strip() for part in text.split(self.separator) if part.strip()]


class LevelsField(TextListField):
    """A JSON list of severity levels, edited as `1, 2, 3`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(separator=",", hint="Levels separated by commas, like 1, 2.", **kwargs)

    def to_python(self, value: Any) -> list[Any]:  # type: ignore[override]
        levels = []
        for part in super().to_python(value):
            level = parse_int(part, max_digits=4)
            if level is None or level < 1:
                raise ValidationError(f"{part!r} is not a severity level (a whole number from 1).")
            levels.append(level)
        return sorted(set(levels))


class ChannelsField(forms.MultipleChoiceField):
    """A JSON list of channels, as tick boxes."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        super().__init__(choices=Channel.choices, **kwargs)

    def to_python(self, value: Any) -> list[str]:
        chosen = set(super().to_python(value))
        return [channel for channel in Channel.values if channel in chosen]


class PolicyScopedChoiceField(forms.ModelChoiceField):
    """Plans, severities and calendars of several policies share names: say whose each one is."""

    def label_from_instance(self, obj: models.Model) -> str:
        return f"{obj.policy} · {obj}"  # type: ignore[attr-defined]


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: models.Model) -> str:
        assert isinstance(obj, TicketCategory)
        return f"{obj.plan.policy} · {obj.plan.name} · {obj.name}"


FieldFactory = Callable[..., forms.Field]


class FormFieldsMixin(BaseModelAdmin):
    """Use `form_field_factories` for named model fields; label related rows with their policy."""

    form_field_factories: ClassVar[dict[str, FieldFactory]] = {}

    def formfield_for_dbfield(
        self, db_field: models.Field, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        factory = self.form_field_factories.get(db_field.name)
        if factory is None:
            return super().formfield_for_dbfield(db_field, request, **kwargs)
        return factory(
            label=capfirst(str(db_field.verbose_name)),
            help_text=db_field.help_text,
            required=not db_field.blank,
        )

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        related = db_field.related_model
        if related is TicketCategory:
            kwargs.setdefault("form_class", CategoryChoiceField)
            kwargs.setdefault("queryset", TicketCategory.objects.select_related("plan__policy"))
        elif not isinstance(related, str) and any(
            field.name == "policy" for field in related._meta.fields
        ):
            kwargs.setdefault("form_class", PolicyScopedChoiceField)
            kwargs.setdefault("queryset", related._default_manager.select_related("policy"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
