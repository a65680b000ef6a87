"""The policy file's email section: the subject tag that names a severity, and the default."""

import pytest

from plans.models import Policy
from sla.policy.loader import policy_load
from sla.policy.schema import PolicyError, parse_policy
from tests.sla.policy_samples import BASE, sample


def with_email(email: object) -> dict:
    return sample(policy={**BASE["policy"], "email": email})


def test_it_reads_the_tag_and_the_default_severity() -> None:
    spec = parse_policy(with_email({"severity_tag": "[P{level}]", "default_severity": 2}), "x")

    assert (spec.email_severity_tag, spec.email_default_severity) == ("[P{level}]", 2)


def test_it_is_optional() -> None:
    spec = parse_policy(sample(), "x")

    assert (spec.email_severity_tag, spec.email_default_severity) == ("", None)


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ({"severity_tag": "[P1]"}, "policy.email.severity_tag: '[P1]' must contain {level} once"),
        ({"default_severity": 7}, "policy.email.default_severity: no severity 7"),
        ({"tag": "[P{level}]"}, "policy.email.tag: unknown key 'tag'"),
    ],
)
def test_it_names_the_bad_field(email: object, error: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(with_email(email), "x")

    assert any(line.startswith(error) for line in caught.value.errors), caught.value.errors


@pytest.mark.django_db
def test_the_loader_stores_it_on_the_policy() -> None:
    data = with_email({"severity_tag": "[S{level}]", "default_severity": 2})
    policy_load(spec=parse_policy(data, "acme"))

    policy = Policy.objects.get(slug="acme")
    assert (policy.email_severity_tag, policy.email_default_severity) == ("[S{level}]", 2)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["vmoso", "openback", "agency", "moboom", "prismic"])
def test_every_example_policy_names_its_email_tag(name: str) -> None:
    from tests.factories import load_example_policy  # noqa: PLC0415 - slow, only here

    load_example_policy(name)

    policy = Policy.objects.get(slug=name)
    assert "{level}" in policy.email_severity_tag
    assert policy.severities.filter(level=policy.email_default_severity).exists()
