"""`python manage.py sla_calculator`: when is each target due, and when does each rule fire?

manage.py sla_calculator --plan SLUG --severity N --at ISO8601 [--category SLUG]
                         [--organization SLUG]   # local business hours in its time zone
manage.py sla_calculator --batch -      # one JSON query per line in, one JSON result out
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from argparse import ArgumentParser
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError

from helpdesk.formatting import utc_iso
from plans.models import Organization
from sla.terms import METRICS, SlaTerms, TermsError, sla_terms


def parse_instant(text: object) -> dt.datetime:
    if not isinstance(text, str):
        raise TermsError(f"'at' must be an ISO 8601 instant, got {text!r}")
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise TermsError(
            f"{text!r} is not an ISO 8601 instant (e.g. 2026-11-20T17:30:00Z)"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise TermsError(f"{text!r} has no UTC offset; add Z or +01:00")
    return value


def utc_text(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return utc_iso(value)


def answer(terms: SlaTerms, opened_at: dt.datetime) -> dict[str, Any]:
    result: dict[str, Any] = {
        "plan": terms.plan_slug,
        "severity": terms.severity_level,
        "opened_at": utc_text(opened_at),
        "targets": {metric: utc_text(terms.due(metric, opened_at)) for metric in METRICS},
        "escalations": [
            {"metric": e.rule.metric, "at": utc_text(e.at), "notify": list(e.rule.notify)}
            for e in terms.escalations(opened_at)
        ],
    }
    if terms.category_slug:
        result["category"] = terms.category_slug
    if terms.time_zone:
        result["time_zone"] = terms.time_zone
    return result


class Calculator:
    """Answers queries, reading each (plan, severity, category) from the database once."""

    def __init__(self) -> None:
        self.terms: dict[tuple[str, int, str | None, int, str | None], SlaTerms] = {}
        self.zones: dict[str, str] = {}

    def zone(self, organization: object) -> str | None:
        """The organization's time zone (local business hours follow it)."""
        if organization is None:
            return None
        if not isinstance(organization, str) or not organization:
            raise TermsError("'organization' must be an organization slug")
        if organization not in self.zones:
            found = Organization.objects.filter(slug=organization).values_list(
                "time_zone", flat=True
            )
            if not found:
                raise TermsError(f"no organization {organization!r}")
            self.zones[organization] = found[0]
        return self.zones[organization]

    def ask(
        self,
        plan: object,
        severity: object,
        at: object,
        category: object = None,
        organization: object = None,
    ) -> dict:
        if not isinstance(plan, str) or not plan:
            raise TermsError("'plan' must be a plan slug")
        if isinstance(severity, bool) or not isinstance(severity, int):
            raise TermsError(f"'severity' must be a whole number, got {severity!r}")
        if category is not None and not isinstance(category, str):
            raise TermsError(f"'category' must be a category slug, got {category!r}")
        opened_at = parse_instant(at)
        zone = self.zone(organization)
        key = (plan, severity, category or None, opened_at.year, zone)
        if key not in self.terms:
            self.terms[key] = sla_terms(
                plan=plan,
                severity=severity,
                category=category or None,
                around=opened_at,
                zone=zone,
            )
        return answer(self.terms[key], opened_at)


class Command(BaseCommand):
    help = "Print when each SLA target is due and when each escalation fires, as JSON (UTC)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--plan", help="plan slug")
        parser.add_argument("--severity", type=int, help="severity level")
        parser.add_argument("--at", help="when the ticket was opened (ISO 8601 with offset)")
        parser.add_argument("--category", help="ticket category slug (optional)")
        parser.add_argument(
            "--organization",
            help="customer organization slug: local business hours run in its time zone",
        )
        parser.add_argument(
            "--batch", metavar="FILE", help="'-' reads one JSON query per line from stdin"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        calculator = Calculator()
        if options["batch"]:
            if options["batch"] != "-":
                try:
                    with open(options["batch"], encoding="utf-8") as source:
                        self.batch(calculator, source)
                except OSError as exc:
                    raise CommandError(f"--batch: cannot read {options['batch']}") from exc
            else:
                self.batch(calculator, sys.stdin)
            return
        missing = [f"--{name}" for name in ("plan", "severity", "at") if options[name] is None]
        if missing:
            raise CommandError(f"missing {', '.join(missing)} (or use --batch -)")
        try:
            result = calculator.ask(
                options["plan"],
                options["severity"],
                options["at"],
                options["category"],
                options["organization"],
            )
        except ValueError as exc:  # TermsError, or a calendar that never opens
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result, indent=2))

    def batch(self, calculator: Calculator, source: IO[str]) -> None:
        out = self.stdout
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                query = json.loads(line)
                if not isinstance(query, dict):
                    raise TermsError("a query is a JSON object")
                unknown = set(query) - {"plan", "severity", "at", "category", "organization"}
                if unknown:
                    raise TermsError(f"unknown key(s) {', '.join(sorted(unknown))}")
                result = calculator.ask(
                    query.get("plan"),
                    query.get("severity"),
                    query.get("at"),
                    query.get("category"),
                    query.get("organization"),
                )
            except json.JSONDecodeError as exc:
                result = {"error": f"line {number}: not JSON ({exc.msg})"}
            except ValueError as exc:  # TermsError, or a calendar that never opens
                result = {"error": f"line {number}: {exc}"}
            out.write(json.dumps(result, separators=(",", ":")))
