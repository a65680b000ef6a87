"""Mailboxes from the environment's URLs."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from tickets.inbound.config import mailboxes, own_addresses, parse_mailbox_url


def test_it_reads_a_mailbox_url_with_its_queue_and_policy() -> None:
    box = parse_mailbox_url(
        "imaps://support%40acme.example:p%40ss@imap.acme.example/Support/In"
        "?queue=l2&policy=openback&done=flag",
        name="acme",
    )

    assert (box.name, box.scheme, box.host, box.port) == ("acme", "imaps", "imap.acme.example", 993)
    assert (box.username, box.password, box.folder) == (
        "support@acme.example",
        "p@ss",
        "Support/In",
    )
    assert (box.address, box.queue, box.policy, box.done) == (
        "support@acme.example",
        "l2",
        "openback",
        "flag",
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("pop3://u:p@host/", "use imap:// or imaps://"),
        ("imap://host/", "needs user@host"),
        ("imap://u:p@host/?colour=blue", "unknown parameter(s) colour"),
        ("imap://u:p@host/?done=delete", "done=move or done=flag"),
    ],
)
def test_it_refuses_a_bad_url_and_says_why(url: str, problem: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=problem.replace("(", r"\(").replace(")", r"\)")):
        parse_mailbox_url(url)


def test_several_mailboxes_are_named_and_ours_are_never_answered(settings) -> None:
    settings.SUPPORT_EMAIL = "Support <help@vendor.example>"
    settings.INBOUND_IMAP_URLS = [
        ("", "imap://a:p@host/"),
        ("", "imap://b:p@host/?address=billing@vendor.example"),
        ("vip", "imap://vip%40vendor.example:p@host/?queue=l3"),
    ]

    assert [box.name for box in mailboxes()] == ["default", "default-2", "vip"]
    assert {"help@vendor.example", "billing@vendor.example", "vip@vendor.example"} <= (
        own_addresses()
    )


def test_two_mailboxes_with_one_name_are_refused(settings) -> None:
    settings.INBOUND_IMAP_URLS = [("", "imap://a:p@host/?name=x"), ("x", "imap://b:p@host/")]

    with pytest.raises(ImproperlyConfigured, match="distinct names"):
        mailboxes()


def test_the_system_check_names_a_bad_mailbox_url(settings) -> None:
    from django.core.checks import run_checks  # noqa: PLC0415 - only this test runs them

    settings.INBOUND_IMAP_URLS = [("", "pop3://u:p@host/")]

    errors = [e for e in run_checks() if e.id == "tickets.E001"]

    assert len(errors) == 1
    assert "use imap:// or imaps://" in errors[0].msg
