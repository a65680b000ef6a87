"""Reading a raw message: robots recognized, ids kept, quotes and signatures trimmed."""

import pytest

from tests.tickets.inbound.servers import build_mail
from tickets.inbound.parsing import parse, trim_reply

OURS = {"support@helpdesk.example"}


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ({"Auto-Submitted": "auto-generated"}, "a@x.example", "Auto-Submitted: auto-generated"),
        ({"Auto-Submitted": "no"}, "a@x.example", ""),
        ({"Precedence": "list"}, "a@x.example", "Precedence: list"),
        ({"List-Id": "<dev.lists.example>"}, "a@x.example", "List-Id header"),
        ({"X-Autoreply": "yes"}, "a@x.example", "X-Autoreply header"),
        ({"Return-Path": "<>"}, "a@x.example", "empty Return-Path (a bounce)"),
        ({}, "postmaster@x.example", "sent by postmaster@x.example"),
        ({}, "Support@Helpdesk.example", "sent from our own address support@helpdesk.example"),
        ({"Precedence": "first-class"}, "a@x.example", ""),
    ],
)
def test_it_recognizes_mail_nobody_should_answer(headers, sender, reason) -> None:
    parsed = parse(build_mail(subject="x", sender=sender, headers=headers), own_addresses=OURS)

    assert parsed.loop_reason == reason


def test_a_message_without_an_id_gets_one_from_its_content() -> None:
    raw = b"From: a@x.example\r\nSubject: no id\r\n\r\nbody\r\n"

    first, second = parse(raw, own_addresses=OURS), parse(raw, own_addresses=OURS)

    assert first.message_id == second.message_id
    assert first.message_id.endswith("@no-message-id>")


def test_it_collects_the_thread_references_newest_first() -> None:
    raw = build_mail(
        subject="Re: x",
        headers={"In-Reply-To": "<c@h>", "References": "<a@h> <b@h> <c@h>"},
    )

    assert parse(raw, own_addresses=OURS).references == ["<c@h>", "<b@h>", "<a@h>"]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Fixed, thanks.\n\nOn Tue, 3 Nov 2026, Support wrote:\n> Try again\n", "Fixed, thanks."),
        ("Fixed.\n\n-- \nAlice\nAcme Ltd\n", "Fixed."),
        ("Steps:\n\n- open\n- click\n\nThat is all.", "Steps:\n\n- open\n- click\n\nThat is all."),
        ("Danke.\n\nAm 3. Nov. 2026 schrieb Support:\n> Bitte\n", "Danke."),
    ],
)
def test_it_trims_quoted_history_and_signatures_but_not_lists(text, kept) -> None:
    assert trim_reply(text) == kept
