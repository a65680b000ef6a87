"""Password reset mail goes through the outbox: recorded, sent once, link made at send time."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from tests.factories import UserFactory
from tickets.models import DeliveryStatus, OutgoingNotification

pytestmark = pytest.mark.django_db


def test_a_reset_is_recorded_and_repeated_requests_in_one_second_send_one_mail(
    mailoutbox: list, django_capture_on_commit_callbacks
) -> None:
    UserFactory.create(username="o'brien", email="ob@acme.example", first_name="Ann & Co")
    client = Client()
    with (
        time_machine.travel(dt.datetime(2027, 1, 5, 9, 0, tzinfo=dt.UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        for _ in range(2):
            assert (
                client.post("/accounts/password_reset/", {"email": "ob@acme.example"}).status_code
                == 302
            )
    (row,) = OutgoingNotification.objects.all()
    assert (row.cause, row.template, row.status) == (
        "password_reset",
        "password_reset",
        DeliveryStatus.SENT,
    )
    assert "token" not in row.data  # the link is made when the mail is rendered
    (message,) = mailoutbox
    assert "Hello Ann & Co Person," in message.body  # plain text, not HTML-escaped
    assert "http://testserver/accounts/reset/" in message.body
    assert message.alternatives[0][1] == "text/html"
