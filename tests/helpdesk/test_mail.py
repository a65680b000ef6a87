"""`helpdesk.mail`: the one render-and-send, and the registries layers use to ask for a mail."""

from __future__ import annotations

import pytest
from django.core import mail as django_mail
from django.core.exceptions import ImproperlyConfigured

from helpdesk import mail


def test_it_renders_text_unescaped_and_html_escaped() -> None:
    context = {
        "ticket": {"reference": "HD-000001", "subject": "Can't & <export>"},
        "rule": "a < b & c",
        "metric": "resolution",
        "late": True,
    }
    rendered = mail.render("sla_escalation", context)
    assert "HD-000001" in rendered.subject
    assert rendered.subject == "[HD-000001] SLA escalation (late): a < b & c"
    assert "Can't & <export>" in rendered.text
    assert "a < b & c" in rendered.text
    assert "Can&#x27;t &amp; &lt;export&gt;" in rendered.html
    assert "\n" not in rendered.subject


def test_it_sends_one_message_with_the_send_id_as_message_id(settings) -> None:
    settings.DEFAULT_FROM_EMAIL = "Support <support@vendor.example>"
    mail.send(
        name="sla_escalation",
        context={"ticket": {"reference": "HD-1"}, "rule": "r", "metric": "m", "late": False},
        to=["x@example.com"],
        send_id="0f0e",
    )
    (message,) = django_mail.outbox
    assert message.to == ["x@example.com"]
    assert message.message()["Message-ID"] == "<0f0e@vendor.example>"
    assert message.alternatives[0][1] == "text/html"


def test_a_template_without_a_context_builder_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured):
        mail.build_context("no_such_mail", {})
