"""Sign in, sign out and password reset by email, with the portal's own pages."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_person_signs_in_and_lands_on_the_dashboard(db: None) -> None:
    UserFactory.create(username="dora")
    response = Client().post("/accounts/login/", {"username": "dora", "password": "pw-for-tests"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_wrong_password_is_refused_with_a_message(db: None) -> None:
    UserFactory.create(username="dora")
    response = Client().post("/accounts/login/", {"username": "dora", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.text


def test_signing_out_ends_the_session(db: None) -> None:
    client = Client()
    client.force_login(UserFactory.create())
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_password_reset_emails_a_single_use_link(
    db: None, mailoutbox: list, django_capture_on_commit_callbacks
) -> None:
    UserFactory.create(username="dora", email="dora@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/accounts/password_reset/", {"email": "dora@acme.example"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "Reset your support portal password"
    assert "/accounts/reset/" in mailoutbox[0].body
    assert "Your sign-in name is dora." in mailoutbox[0].body


def test_password_reset_for_an_unknown_address_sends_nothing(
    db: None, mailoutbox: list, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/accounts/password_reset/", {"email": "nobody@acme.example"})
    assert response.status_code == 302
    assert mailoutbox == []
