"""Input that used to crash or stall a page, files the server types itself, plain-text mails."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.builders.portal import PortalWorld as World
from tests.builders.portal import open_ticket
from tickets import services
from tickets.markdown import render_markdown
from tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db

NEW = "/tickets/new/"
GUARD_SECONDS = 5  # generous: both inputs took a RecursionError or 20 s before


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ticket_form(**overrides: object) -> dict:
    return {"subject": "Export", "severity": "2", "channel": "portal", "body": "Hi", **overrides}


@pytest.mark.parametrize(
    "text", ["- " * 600 + "x <script>", "[" * 12000 + "<b>", "> " * 5000 + "&", "-\n" * 9000]
)
def test_it_renders_pathological_markdown_fast_as_escaped_text(text: str) -> None:
    started = time.perf_counter()
    html = render_markdown(text)
    assert time.perf_counter() - started < GUARD_SECONDS
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;" in html or "&amp;" in html or "<br>" in html
    assert "<li>" not in html


def test_it_still_renders_ordinary_markdown() -> None:
    html = render_markdown("- one\n  - two\n\nSee [docs](https://example.com) **now**")
    assert "<li>" in html and 'href="https://example.com"' in html and "<strong>" in html


def test_a_new_ticket_with_the_recursive_body_opens_instead_of_failing(world: World) -> None:
    response = signed_in(world.alice.user).post(NEW, ticket_form(body="- " * 600 + "x"))
    assert response.status_code == 302
    page = signed_in(world.alice.user).get(response["Location"])
    assert page.status_code == 200


def test_a_body_over_the_limit_is_refused_naming_the_field(world: World) -> None:
    body = "x" * (settings.MESSAGE_BODY_MAX_CHARS + 1)
    response = signed_in(world.alice.user).post(NEW, ticket_form(body=body))
    assert response.status_code == 400
    errors = response.context["form"].errors["body"]
    assert errors == [
        f"The description is too long: at most {settings.MESSAGE_BODY_MAX_CHARS} characters "
        f"(it has {len(body)})."
    ]
    assert not Ticket.objects.exists()


def test_the_service_refuses_a_reply_over_the_limit_on_the_body(world: World) -> None:
    ticket = open_ticket(world.alice)
    with pytest.raises(ValidationError) as refused:
        services.ticket_reply(
            ticket=ticket, author=world.bob.user, body="y" * (settings.MESSAGE_BODY_MAX_CHARS + 1)
        )
    assert "The message is too long" in refused.value.message_dict["body"][0]


# -- attachments ------------------------------------------------------------------------------


def media_files() -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("name", "claimed", "served"),
    [
        ("page.txt", "text/html", "text/plain"),
        ("drawing.xml", "image/svg+xml", "application/octet-stream"),
        ("shot.png", "text/html", "image/png"),
    ],
)
def test_it_serves_attachments_with_the_type_it_decided_not_the_uploaders(
    world: World, name: str, claimed: str, served: str
) -> None:
    upload = SimpleUploadedFile(name, b"<svg onload=alert(1)>", content_type=claimed)
    ticket = open_ticket(world.alice, attachments=(upload,))
    attachment = Attachment.objects.get(ticket=ticket)
    response = signed_in(world.bob.user).get(
        f"/tickets/{ticket.reference}/attachments/{attachment.pk}/"
    )
    assert response["Content-Type"] == served
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_refused_upload_leaves_no_file_behind(world: World) -> None:
    files = [
        SimpleUploadedFile("ok.txt", b"fine", content_type="text/plain"),
        SimpleUploadedFile("tool.exe", b"MZ", content_type="application/octet-stream"),
    ]
    response = signed_in(world.alice.user).post(NEW, ticket_form(attachments=files))
    assert response.status_code == 400
    assert not Ticket.objects.exists()
    assert media_files() == []


def test_a_refused_reply_leaves_no_file_behind(world: World, settings: object) -> None:
    ticket = open_ticket(world.alice)
    files = [
        SimpleUploadedFile("ok.txt", b"fine", content_type="text/plain"),
        SimpleUploadedFile("big.txt", b"x" * 20, content_type="text/plain"),
    ]
    settings.ATTACHMENT_MAX_BYTES = 10  # the pytest-django fixture: undone after the test
    with pytest.raises(ValidationError):
        services.ticket_reply(ticket=ticket, author=world.bob.user, body="logs", attachments=files)
    assert media_files() == []


# -- plain-text mails -------------------------------------------------------------------------


def test_plain_text_mails_arrive_unescaped(
    world: World, mailoutbox: list, django_capture_on_commit_callbacks: object
) -> None:
    subject = "Can't open the report & <export>"
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        signed_in(world.alice.user).post(NEW, ticket_form(subject=subject))
    mail = mailoutbox[0]
    assert subject in mail.subject
    assert subject in mail.body
    html = mail.alternatives[0][0]
    assert "Can&#x27;t open the report &amp; &lt;export&gt;" in html


def test_every_plain_text_mail_template_turns_autoescape_off() -> None:
    folder = Path(settings.BASE_DIR) / "templates"
    texts = [*folder.glob("emails/*.txt"), *folder.glob("registration/*.txt")]
    assert texts
    for path in texts:
        assert path.read_text().startswith("{% autoescape off %}"), path.name
