"""Per-ticket SLA clocks: started, paused, resumed, retargeted, met, breached, escalated.

The ticket services call `clocks_new` / `clocks_save` and `clock_on_ticket_event` explicitly (no
signals).
Every ticket gets a clock for each metric, even one without a target: it records when the
metric was met (reports measure first-response time without a guarantee too) and lets an
escalation rule watch a metric that has no target (Vmoso's priority 1 ladder on resolution).

Due instants, the 75% "at risk" instant and escalation instants are business time after the
start plus the business time spent paused, on the clock's calendar:
`due = add(started_at, target + paused_business)`.

Scheduling: each clock carries `next_action_at`, the next instant the sweep must look at it
(an unfired rule or the breach). `sweep()` (run by a django-q2 schedule every minute) selects
the clocks whose instant has passed through a partial index, so its work is proportional to
what is due, not to the open tickets.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import transaction

from helpdesk import timing
from helpdesk.db import bulk_insert, bulk_set, insert_rows, retry_on_conflict
from sla.calendars import clock_for
from sla.clock import BusinessCalendar as PureCalendar
from sla.models import (
    LIVE_STATES,
    BusinessCalendar,
    ClockState,
    EscalationFiring,
    EscalationRule,
    Metric,
    SlaClock,
    SlaClockEvent,
)
from sla.ports import SlaTicket
from sla.standing import AT_RISK_SHARE
from sla.terms import SlaTerms, sla_terms

log = logging.getLogger(__name__)

METRICS = tuple(Metric.values)

# The scheduler wakes about every 30 s and the sweep runs every minute, so a firing normally
# lands within 90 s of its instant; one later than this was held up (no worker was running).
LATE_AFTER = dt.timedelta(minutes=3)
SWEEP_BATCH = 2000


class TicketEvent(enum.StrEnum):
    AGENT_ACTION = "agent_action"  # assignment, acknowledgement, status change: acknowledge
    PUBLIC_REPLY = "public_reply"  # first public agent reply: acknowledge and first response
    WAITING = "waiting"  # waiting on customer: pauses resolution
    CUSTOMER_REPLIED = "customer_replied"  # resumes resolution
    RESOLVED = "resolved"
    REOPENED = "reopened"  # a new resolution cycle
    SEVERITY_CHANGED = "severity_changed"  # retarget from the original start
    WITHDRAWN = "withdrawn"  # closed unresolved (withdrawn or out of scope)


# -- what an escalation does to a ticket: registered by the tickets app at start-up ---------


@dataclass(frozen=True)
class EscalationAction:
    firing_id: int
    ticket_id: int
    metric: str
    rule_text: str
    notify: tuple[str, ...]
    move_to: str
    late: bool
    due_at: dt.datetime | None = None  # the rule's instant: escalation lag is measured from it


@dataclass
class EscalationOutcome:
    notified: list[str] = field(default_factory=list)
    moved_to: str = ""
    fell_back: bool = False  # a role reached nobody: the support managers were told instead
    fallback_reason: str = ""


# Takes the actions of one sweep batch; returns the outcome of each by firing id.
EscalationHandler = Callable[[list[EscalationAction]], dict[int, EscalationOutcome]]
_handler: EscalationHandler | None = None


def register_escalation_handler(handler: EscalationHandler) -> None:
    global _handler
    _handler = handler


class ClockChange(enum.StrEnum):
    """How clocks changed, for what `tickets` keeps of them."""

    BREACHED = "breached"  # a breach recorded at the due instant (the sweep), nothing else
    CHANGED = "changed"  # anything else


class ClocksChangedHandler(Protocol):
    """Told, in the same transaction, which clocks changed, whose tickets they are and how
    (tickets keep a summary of them and what the SLA report counts)."""

    def __call__(
        self, ticket_ids: set[int], clock_ids: set[int], *, change: ClockChange = ...
    ) -> None: ...


_clocks_changed: ClocksChangedHandler | None = None


def register_clocks_changed_handler(handler: ClocksChangedHandler) -> None:
    global _clocks_changed
    _clocks_changed = handler


def _changed(clocks: Iterable[SlaClock], change: ClockChange = ClockChange.CHANGED) -> None:
    clocks = list(clocks)
    if clocks and _clocks_changed is not None:
        ticket_ids = {clock.ticket_id for clock in clocks}
        _clocks_changed(ticket_ids, {clock.pk for clock in clocks}, change=change)


class TicketLocker(Protocol):
    """Locks these tickets' rows (`SELECT ... FOR UPDATE`, by id) and returns the ids it locked;
    with `skip_locked`, tickets another transaction holds are left out instead of waited for.

    One lock order everywhere: a ticket, then its clocks. The ticket services lock the ticket
    and then call into this module; whatever this module locks on its own (the sweep, the
    recalculation) locks the clocks' tickets first through the locker the tickets app
    registers, so `sla` never names the ticket table."""

    def __call__(self, ticket_ids: Sequence[int], *, skip_locked: bool) -> list[int]: ...


_ticket_locker: TicketLocker | None = None


def register_ticket_locker(locker: TicketLocker) -> None:
    global _ticket_locker
    _ticket_locker = locker


def lock_clock_tickets(ticket_ids: Iterable[int], *, skip_locked: bool) -> list[int]:
    ids = sorted(set(ticket_ids))
    if _ticket_locker is None:
        log.warning("no ticket locker registered; clocks are locked without their tickets")
        return ids
    return _ticket_locker(ids, skip_locked=skip_locked)


# -- clock arithmetic helpers ----------------------------------------------------------------


def _terms_for(ticket: SlaTicket, at: dt.datetime) -> SlaTerms:
    return sla_terms(
        plan=ticket.plan,
        severity=ticket.severity,
        category=ticket.category,
        around=at,
        zone=ticket.organization.time_zone,
    )


def _calendar(clock: SlaClock, around: dt.datetime) -> PureCalendar:
    """The pure calendar a clock runs on (in the customer's zone for local business hours)."""
    return clock_for(clock.calendar, around=around, zone=clock.time_zone or None)


def _schedule(clock: SlaClock) -> None:
    """Set due, at-risk and original due from start, target and paused time."""
    if clock.target is None:
        clock.due_at = clock.at_risk_at = None
        return
    calendar = _calendar(clock, clock.started_at)
    clock.due_at = calendar.add(clock.started_at, clock.target + clock.paused_business)
    clock.at_risk_at = calendar.add(
        clock.started_at, clock.target * AT_RISK_SHARE + clock.paused_business
    )


class _RuleOffset(Protocol):
    """When a rule fires: a rule row or its `RuleTerms`."""

    @property
    def after(self) -> dt.timedelta | None: ...

    @property
    def after_percent(self) -> int | None: ...


def _rule_offset(rule: _RuleOffset, target: dt.timedelta | None) -> dt.timedelta | None:
    if rule.after is not None:
        return rule.after
    if target is None or rule.after_percent is None:
        return None
    return target * rule.after_percent / 100


def _rule_instant(clock: SlaClock, rule: _RuleOffset) -> dt.datetime | None:
    offset = _rule_offset(rule, clock.target)
    if offset is None:
        return None
    calendar = _calendar(clock, clock.started_at)
    return calendar.add(clock.started_at, offset + clock.paused_business)


def _next_action(
    clock: SlaClock, rules: Iterable[EscalationRule], fired: set[int]
) -> dt.datetime | None:
    """The next instant the sweep must look at: the breach or the earliest unfired rule."""
    if clock.state not in (ClockState.RUNNING, ClockState.BREACHED):
        return None
    instants = []
    if clock.due_at is not None and clock.breached_at is None:
        instants.append(clock.due_at)
    for rule in rules:
        if rule.metric == clock.metric and rule.pk not in fired:
            at = _rule_instant(clock, rule)
            if at is not None:
                instants.append(at)
    return min(instants, default=None)


def _first_action(clock: SlaClock, terms: SlaTerms) -> dt.datetime | None:
    """`_next_action` of a clock just started on `terms`: nothing has fired yet, and the terms
    hold the rules of its plan, severity and category (no query)."""
    instants = [] if clock.due_at is None else [clock.due_at]
    for rule in terms.rules:
        if rule.metric == clock.metric and (at := _rule_instant(clock, rule)) is not None:
            instants.append(at)
    return min(instants, default=None)


def _rules_for(
    clocks: Iterable[SlaClock],
) -> dict[tuple[int, int, int | None], list[EscalationRule]]:
    """Rules by (plan, severity, category) for all the clocks, in one query."""
    clocks = list(clocks)
    if not clocks:
        return {}
    rows = EscalationRule.objects.filter(
        plan_id__in={c.plan_id for c in clocks}, severity_id__in={c.severity_id for c in clocks}
    ).order_by("position", "pk")
    found: dict[tuple[int, int, int | None], list[EscalationRule]] = {}
    for clock in clocks:
        key = (clock.plan_id, clock.severity_id, clock.category_id)
        if key not in found:
            found[key] = [
                rule
                for rule in rows
                if rule.plan_id == clock.plan_id
                and rule.severity_id == clock.severity_id
                and rule.category_id in (None, clock.category_id)
            ]
    return found


def _rules(
    clock: SlaClock, rules: dict[tuple[int, int, int | None], list[EscalationRule]]
) -> list[EscalationRule]:
    return [
        r
        for r in rules.get((clock.plan_id, clock.severity_id, clock.category_id), [])
        if r.metric == clock.metric
    ]


def _event(clock: SlaClock, kind: str, at: dt.datetime, reason: str = "", **data: Any) -> None:
    SlaClockEvent.objects.create(
        clock=clock, kind=kind, at=at, due_at=clock.due_at, reason=reason[:300], data=data
    )


def _fired_rules(clocks: Iterable[SlaClock]) -> dict[int, set[int]]:
    """The rules already fired on each of these clocks, in one query."""
    fired: dict[int, set[int]] = {}
    saved = [c.pk for c in clocks if c.pk]
    if not saved:  # new clocks (a submission): nothing fired yet, nothing to ask
        return fired
    for clock_id, rule_id in EscalationFiring.objects.filter(clock__in=saved).values_list(
        "clock_id", "rule_id"
    ):
        fired.setdefault(clock_id, set()).add(rule_id)
    return fired


def _refresh_next_action(clocks: list[SlaClock]) -> None:
    rules = _rules_for(clocks)
    fired = _fired_rules(clocks)
    for clock in clocks:
        clock.next_action_at = _next_action(clock, _rules(clock, rules), fired.get(clock.pk, set()))


# -- lifecycle --------------------------------------------------------------------------------


def clocks_new(*, ticket: SlaTicket, at: dt.datetime) -> list[SlaClock]:
    """A clock per metric for a new ticket, on the calendar of its plan x severity x category,
    scheduled and not saved: the ticket, about to be inserted, stores their summary with its
    first write, and `clocks_save` saves them once it has its id (nobody is told: there is no
    outcome yet, and the caller wrote the summary)."""
    terms = _terms_for(ticket, at)
    clocks = [_new_clock(ticket, terms, metric, at, cycle=1) for metric in METRICS]
    for clock in clocks:
        clock.next_action_at = _first_action(clock, terms)
    return clocks


def clocks_save(*, ticket: SlaTicket, clocks: list[SlaClock], at: dt.datetime) -> None:
    """Save a new ticket's clocks from `clocks_new`, with their "started" events."""
    for clock in clocks:
        clock.ticket_id = ticket.pk
    bulk_insert(clocks)
    insert_rows(
        SlaClockEvent,
        [
            {"clock_id": c.pk, "kind": SlaClockEvent.Kind.STARTED, "at": at, "due_at": c.due_at}
            for c in clocks
        ],
    )


def _new_clock(
    ticket: SlaTicket, terms: SlaTerms, metric: str, at: dt.datetime, *, cycle: int
) -> SlaClock:
    clock = SlaClock(
        ticket_id=ticket.pk,
        metric=metric,
        cycle=cycle,
        plan_id=ticket.plan_id,
        severity_id=ticket.severity_id,
        category_id=ticket.category_id,
        calendar_id=terms.calendar_id,
        time_zone=terms.time_zone,
        target=terms.targets[metric],
        started_at=at,
        state=ClockState.RUNNING,
    )
    if terms.calendar_row is not None:
        clock.calendar = terms.calendar_row  # scheduling reads it: no query per clock
    _schedule(clock)
    clock.original_due_at = clock.due_at
    return clock


def _live(ticket: SlaTicket, *metrics: str) -> list[SlaClock]:
    """The ticket's live clocks (latest cycle per metric), locked for update. The caller holds
    the ticket's lock already (one lock order: the ticket, then its clocks)."""
    rows = (
        SlaClock.objects.select_for_update()
        .select_related("calendar")
        .filter(ticket_id=ticket.pk, metric__in=metrics or METRICS, state__in=LIVE_STATES)
        .order_by("metric", "cycle")
    )
    return list(rows)


# Terms by (plan, severity, category, customer zone): a batch asks the database once per key.
TermsCache = dict[tuple[int, int, int | None, str], SlaTerms]

SAVED_FIELDS = [
    "state",
    "due_at",
    "at_risk_at",
    "paused_business",
    "paused_at",
    "met_at",
    "breached_at",
    "business_elapsed",
    "next_action_at",
    "target",
    "calendar",
    "time_zone",
    "severity",
    "plan",
    "category",
]


_SAVED_ATTRIBUTES = [
    f"{name}_id" if name in ("calendar", "severity", "plan", "category") else name
    for name in SAVED_FIELDS
]


def _saved(clock: SlaClock) -> tuple[Any, ...]:
    return tuple(getattr(clock, name) for name in _SAVED_ATTRIBUTES)


def _save(clocks: list[SlaClock]) -> None:
    bulk_set(clocks, SAVED_FIELDS)
    _changed(clocks)


def _meet(clock: SlaClock, at: dt.datetime) -> None:
    calendar = _calendar(clock, at)
    if clock.state == ClockState.PAUSED and clock.paused_at is not None:
        clock.paused_business += calendar.elapsed(clock.paused_at, at)
        clock.paused_at = None
    if clock.due_at is not None and clock.breached_at is None and at > clock.due_at:
        # Met after the due instant, before the sweep recorded the breach.
        clock.breached_at = clock.due_at
        _event(clock, SlaClockEvent.Kind.BREACHED, clock.due_at)
    clock.met_at = at
    clock.business_elapsed = max(
        calendar.elapsed(clock.started_at, at) - clock.paused_business, dt.timedelta(0)
    )
    clock.state = ClockState.MET
    clock.next_action_at = None
    _event(clock, SlaClockEvent.Kind.MET, at, late=clock.breached_at is not None)


def clock_on_ticket_event(
    *, ticket: SlaTicket, event: TicketEvent, at: dt.datetime, reason: str = ""
) -> list[SlaClock]:
    """Apply what happened on the ticket to its clocks; returns the clocks that changed."""
    if event == TicketEvent.AGENT_ACTION:
        changed = _live(ticket, Metric.ACKNOWLEDGE)
        for clock in changed:
            _meet(clock, at)
    elif event == TicketEvent.PUBLIC_REPLY:
        changed = _live(ticket, Metric.ACKNOWLEDGE, Metric.FIRST_RESPONSE)
        for clock in changed:
            _meet(clock, at)
    elif event == TicketEvent.RESOLVED:
        changed = _live(ticket)
        for clock in changed:
            if clock.metric == Metric.RESOLUTION:
                _meet(clock, at)
            else:
                _cancel(clock, at, "ticket resolved without it")
    elif event == TicketEvent.WITHDRAWN:
        changed = _live(ticket)
        for clock in changed:
            _cancel(clock, at, reason or "ticket closed unresolved")
    elif event == TicketEvent.WAITING:
        changed = [c for c in _live(ticket, Metric.RESOLUTION) if c.state != ClockState.PAUSED]
        for clock in changed:
            clock.state = ClockState.PAUSED
            clock.paused_at = at
            clock.next_action_at = None
            _event(clock, SlaClockEvent.Kind.PAUSED, at, reason)
    elif event == TicketEvent.CUSTOMER_REPLIED:
        changed = [c for c in _live(ticket, Metric.RESOLUTION) if c.state == ClockState.PAUSED]
        for clock in changed:
            _resume(clock, at)
        _refresh_next_action(changed)
    elif event == TicketEvent.REOPENED:
        return _reopen(ticket, at, reason)
    elif event == TicketEvent.SEVERITY_CHANGED:
        changed = _live(ticket)
        clocks_retarget(clocks=changed, at=at, reason=reason or "severity changed", ticket=ticket)
        return changed
    else:  # pragma: no cover - the enum is closed
        raise ValueError(f"unknown ticket event {event!r}")
    _save(changed)
    return changed


def _cancel(clock: SlaClock, at: dt.datetime, reason: str) -> None:
    if clock.state == ClockState.PAUSED and clock.paused_at is not None:
        calendar = _calendar(clock, at)
        clock.paused_business += calendar.elapsed(clock.paused_at, at)
        clock.paused_at = None
    clock.state = ClockState.CANCELLED
    clock.next_action_at = None
    _event(clock, SlaClockEvent.Kind.CANCELLED, at, reason)


def _resume(clock: SlaClock, at: dt.datetime) -> None:
    calendar = _calendar(clock, at)
    paused = calendar.elapsed(clock.paused_at, at) if clock.paused_at else dt.timedelta(0)
    clock.paused_business += paused
    clock.paused_at = None
    clock.state = ClockState.BREACHED if clock.breached_at else ClockState.RUNNING
    _schedule(clock)
    _event(clock, SlaClockEvent.Kind.RESUMED, at, paused_seconds=int(paused.total_seconds()))


def _reopen(ticket: SlaTicket, at: dt.datetime, reason: str) -> list[SlaClock]:
    """A new resolution cycle from the reopen instant; earlier cycles keep their history."""
    last = (
        SlaClock.objects.filter(ticket_id=ticket.pk, metric=Metric.RESOLUTION)
        .order_by("-cycle")
        .values_list("cycle", flat=True)
        .first()
    )
    for clock in _live(ticket, Metric.RESOLUTION):  # cannot happen through the services
        _cancel(clock, at, "superseded by a reopen")
        _save([clock])
    clock = _new_clock(ticket, _terms_for(ticket, at), Metric.RESOLUTION, at, cycle=(last or 0) + 1)
    _refresh_next_action([clock])
    clock.save()
    _event(clock, SlaClockEvent.Kind.STARTED, at, reason or "ticket reopened")
    return [clock]


def clocks_retarget(
    *,
    clocks: list[SlaClock],
    at: dt.datetime,
    reason: str,
    ticket: SlaTicket | None = None,
    terms: TermsCache | None = None,
) -> int:
    """Retarget live clocks from their original start with the terms that apply now (after a
    severity change, or a changed calendar, closure or target). Returns how many changed.

    A fixed number of queries for any number of clocks (plus the terms of each new plan x
    severity x category x zone, kept in `terms` across calls); only the clocks that changed are
    written and reported to the ticket side."""
    changed = 0
    terms_cache: TermsCache = {} if terms is None else terms
    before = {id(clock): _saved(clock) for clock in clocks}
    events: list[dict[str, Any]] = []  # named values: a recalculation writes thousands
    for clock in clocks:
        if clock.state not in LIVE_STATES:
            continue
        subject: SlaTicket = ticket if ticket is not None else clock.ticket
        key = (
            subject.plan_id,
            subject.severity_id,
            subject.category_id,
            subject.organization.time_zone,
        )
        if key not in terms_cache:
            terms_cache[key] = _terms_for(subject, at)
        found = terms_cache[key]
        was = (clock.target, clock.due_at, clock.calendar_id, clock.severity_id)
        clock.time_zone = found.time_zone
        clock.plan_id, clock.severity_id = subject.plan_id, subject.severity_id
        clock.category_id = subject.category_id
        clock.target = found.targets[clock.metric]
        if clock.calendar_id != found.calendar_id:
            clock.calendar_id = found.calendar_id
            clock.calendar = found.calendar_row or BusinessCalendar.objects.get(
                pk=found.calendar_id
            )
        # A breach already recorded stays: it happened under the terms of its time.
        _schedule(clock)
        if (clock.target, clock.due_at, clock.calendar_id, clock.severity_id) != was:
            changed += 1
            events.append(
                {
                    "clock_id": clock.pk,
                    "kind": SlaClockEvent.Kind.RETARGETED.value,
                    "at": at,
                    "due_at": clock.due_at,
                    "reason": reason[:300],
                    "data": {
                        "target_seconds": int(clock.target.total_seconds())
                        if clock.target
                        else None
                    },
                }
            )
    _refresh_next_action(clocks)
    insert_rows(SlaClockEvent, events)
    _save([clock for clock in clocks if _saved(clock) != before[id(clock)]])
    return changed


# -- the sweep --------------------------------------------------------------------------------


@dataclass
class SweepResult:
    clocks: int = 0
    breached: int = 0
    fired: int = 0
    late: int = 0
    skipped_duplicates: int = 0


@retry_on_conflict
def sweep(*, now: dt.datetime | None = None, batch: int = SWEEP_BATCH) -> SweepResult:
    """Record breaches and fire due escalation rules, each exactly once, in a fixed number of
    queries per batch, side effects included (the handlers work on the whole batch at once).

    Lock order, as everywhere: the due clocks' tickets first (by id), then those tickets'
    clocks, both with `SKIP LOCKED`, so several sweeps take disjoint tickets and never wait
    for each other, and a sweep never waits for an agent who holds a ticket (it takes that
    ticket next time). On SQLite writers are serialized by the database. The unique
    constraint on (clock, rule) is the last guard: firings are inserted with
    `ON CONFLICT DO NOTHING`, tagged with this sweep's token, and only the rows this sweep
    inserted are acted on, so nothing is sent twice.
    """
    now = now or timing.now()
    result = SweepResult()
    with transaction.atomic():
        due = SlaClock.objects.filter(next_action_at__lte=now)
        ticket_ids = list(
            due.order_by("next_action_at").values_list("ticket_id", flat=True)[:batch]
        )
        if not ticket_ids:
            return result
        locked = lock_clock_tickets(ticket_ids, skip_locked=True)
        rows = (
            due.select_related("calendar")
            .filter(ticket_id__in=locked)
            .order_by("ticket_id", "metric", "cycle")
            .select_for_update(skip_locked=True, of=("self",))
        )
        clocks = list(rows)
        if not clocks:
            return result
        rules = _rules_for(clocks)
        fired = _fired_rules(clocks)
        token = uuid.uuid4()
        events: list[dict[str, Any]] = []
        firings: list[EscalationFiring] = []
        breached: set[int] = set()
        for clock in clocks:
            result.clocks += 1
            done = fired.setdefault(clock.pk, set())
            if clock.state not in (ClockState.RUNNING, ClockState.BREACHED):
                clock.next_action_at = None
                continue
            if clock.due_at is not None and clock.breached_at is None and clock.due_at <= now:
                clock.breached_at = clock.due_at
                clock.state = ClockState.BREACHED
                late = now - clock.due_at > LATE_AFTER
                events.append(
                    {
                        "clock_id": clock.pk,
                        "kind": SlaClockEvent.Kind.BREACHED.value,
                        "at": now,
                        "due_at": clock.due_at,
                        "data": {"late": late},
                    }
                )
                result.breached += 1
                breached.add(clock.pk)
            for rule in _rules(clock, rules):
                if rule.pk in done:
                    continue
                at = _rule_instant(clock, rule)
                if at is None or at > now:
                    continue
                done.add(rule.pk)
                firings.append(
                    EscalationFiring(
                        clock=clock,
                        rule=rule,
                        rule_text=_rule_text(rule, clock),
                        due_at=at,
                        fired_at=now,
                        late=now - at > LATE_AFTER,
                        sweep=token,
                    )
                )
            clock.next_action_at = _next_action(clock, _rules(clock, rules), done)
        insert_rows(SlaClockEvent, events)
        if firings:
            _act(firings, token, rules, result)
        bulk_set(clocks, ["state", "breached_at", "next_action_at"])
        # A breach is recorded at the due instant, which the tickets' stored summaries already
        # hold as the breach instant; what changes is what the SLA report counts.
        _changed((clock for clock in clocks if clock.pk in breached), ClockChange.BREACHED)
    return result


def _act(
    firings: list[EscalationFiring],
    token: uuid.UUID,
    rules: dict[tuple[int, int, int | None], list[EscalationRule]],
    result: SweepResult,
) -> None:
    """Insert the firings, keep those this sweep won, and hand them to the ticket side."""
    bulk_insert(firings, ignore_conflicts=True)
    # The rows this sweep inserted, matched to the firings in memory (which hold their clock
    # and rule already): ids only, no model rows to build again.
    mine = {(f.clock_id, f.rule_id): f for f in firings}
    won = []
    for pk, clock_id, rule_id in EscalationFiring.objects.filter(sweep=token).values_list(
        "pk", "clock_id", "rule_id"
    ):
        firing = mine[(clock_id, rule_id)]
        firing.pk = pk
        won.append(firing)
    result.skipped_duplicates += len(firings) - len(won)
    actions = [
        EscalationAction(
            firing_id=firing.pk,
            ticket_id=firing.clock.ticket_id,
            metric=firing.clock.metric,
            rule_text=firing.rule_text,
            notify=tuple(firing.rule.notify) if firing.rule else (),
            move_to=firing.rule.move_to if firing.rule else "",
            late=firing.late,
            due_at=firing.due_at,
        )
        for firing in won
    ]
    if _handler is None:
        log.warning("no escalation handler registered; %d firings had no action", len(won))
        outcomes: dict[int, EscalationOutcome] = {}
    else:
        outcomes = _handler(actions)
    # `notified` is whom the firing addressed, written in this transaction together with the
    # outgoing-notification rows the handler recorded for them: never ahead of a mail that was
    # not recorded, and never lost with one. Whether each went out is on those rows.
    for firing in won:
        outcome = outcomes.get(firing.pk, EscalationOutcome())
        firing.notified, firing.moved_to = outcome.notified, outcome.moved_to
        firing.fell_back, firing.fallback_reason = outcome.fell_back, outcome.fallback_reason[:300]
    bulk_set(won, ["notified", "moved_to", "fell_back", "fallback_reason"])
    result.fired += len(won)
    result.late += sum(1 for firing in won if firing.late)


def _rule_text(rule: EscalationRule, clock: SlaClock) -> str:
    metric = Metric(clock.metric).label.lower()
    text = f"{metric} not met after {rule.when_text()}: notify {', '.join(rule.notify) or '-'}"
    if rule.move_to:
        text += f", move to {rule.move_to}"
    return text[:200]
