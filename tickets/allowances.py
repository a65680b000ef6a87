"""Allowances that are caps (Prismic's enablement sessions, "up to 8 hours / year").

Where the plan says the yearly enablement hours are a cap (`enablement_hours_capped`), a new
session request is refused once the contract year's hours are used up, and time logged beyond
them is shown as over: a warning to the agent who logs it, and on the customer's plan page.
Rules only: the submission service and the agents' time form call these.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError

from plans.models import Contract, TicketCategory
from tickets.hours.ledger import EnablementYear, enablement_ledger, hours, local_today
from tickets.models import Ticket


def _hours_text(value: Decimal) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


def enablement_year(contract: Contract, *, on: dt.date) -> EnablementYear | None:
    """The contract year holding `on`, with its enablement time (one query)."""
    years = enablement_ledger(contract, today=on)
    return next((year for year in years if year.start <= on <= year.end), None)


def check_enablement_request(
    *, contract: Contract, category: TicketCategory | None, today: dt.date | None = None
) -> None:
    """Refuse a new enablement session once a capped yearly allowance is used up."""
    plan = contract.plan
    if category is None or not category.draws_enablement_hours:
        return
    if not plan.enablement_hours_capped or plan.enablement_hours_per_year is None:
        return
    today = today or local_today(contract.organization)
    year = enablement_year(contract, on=today)
    if year is None or year.used_minutes < year.allowance_minutes:
        return
    allowance = _hours_text(year.allowance)
    next_year = year.end + dt.timedelta(days=1)
    raise ValidationError(
        {
            "category": f"{category.name} are up to {allowance} hours a year under the {plan} "
            f"plan, and {year.used:.2f} of {year.allowance:.2f} hours of this contract year "
            f"({year.start:%d %b %Y} – {year.end:%d %b %Y}) are used: a new session can be "
            f"requested from {next_year:%d %b %Y}, or ask your Customer Success Manager."
        }
    )


def enablement_status(*, ticket: Ticket, on: dt.date) -> str:
    """For the agent about to log time on an enablement ticket: the contract year's hours
    used and left (empty for other tickets). Two queries."""
    category = ticket.category
    if category is None or not category.draws_enablement_hours:
        return ""
    contract = (
        Contract.objects.select_related("plan", "organization")
        .filter(organization_id=ticket.organization_id, starts_on__lte=on)
        .order_by("-starts_on")
        .first()
    )
    if contract is None or contract.plan.enablement_hours_per_year is None:
        return ""
    year = enablement_year(contract, on=on)
    if year is None:
        return ""
    kind = "up to" if contract.plan.enablement_hours_capped else "allowance of"
    text = (
        f"Enablement sessions, {kind} {year.allowance:.2f} h in the contract year "
        f"{year.start:%d %b %Y} – {year.end:%d %b %Y}: {year.used:.2f} h used, "
        f"{year.left:.2f} h left."
    )
    if year.over_minutes:
        text += f" Already {year.over:.2f} h over."
    return text


def time_warning(*, ticket: Ticket, date: dt.date) -> str:
    """What the agent should know after logging time on `ticket` for `date`: the enablement
    hours of that contract year are over their cap (empty when nothing to say)."""
    category = ticket.category
    if category is None or not category.draws_enablement_hours:
        return ""
    contract = (
        Contract.objects.select_related("plan", "organization")
        .filter(organization_id=ticket.organization_id, starts_on__lte=date)
        .order_by("-starts_on")
        .first()
    )
    if contract is None or contract.plan.enablement_hours_per_year is None:
        return ""
    year = enablement_year(contract, on=date)
    if year is None or year.used_minutes <= year.allowance_minutes:
        return ""
    over = hours(year.used_minutes - year.allowance_minutes)
    kind = "a cap" if contract.plan.enablement_hours_capped else "the yearly allowance"
    return (
        f"{ticket.organization} has now used {year.used:.2f} h of enablement sessions in the "
        f"contract year {year.start:%d %b %Y} – {year.end:%d %b %Y}: {over:.2f} h over the "
        f"{year.allowance:.2f} h of {kind}. The customer sees it as over on their plan page."
    )
