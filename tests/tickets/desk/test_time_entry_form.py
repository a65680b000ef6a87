"""The time-entry form says that customers see its note."""

from __future__ import annotations

import pytest

from tickets.desk.forms import TimeEntryForm

pytestmark = pytest.mark.django_db


def test_it_marks_the_note_as_seen_by_the_customer() -> None:
    field = TimeEntryForm.base_fields["note"]
    assert "customer sees it" in str(field.label)
    assert "Shown to the customer" in str(field.help_text)
