"""Parse and validate a support policy file into plain values, with errors that name their path.

Pure: no ORM (the vocabularies come from `plans.choices` and `sla.choices`).
`parse_policy(data, default_slug)` returns a `PolicySpec` or raises `PolicyError`
listing every problem found (not just the first), each as `path: message`.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import holidays

from plans.choices import Channel, TamOption
from sla.choices import WEEKDAY_KEYS, Metric, NotifyRole

WEEKDAYS = WEEKDAY_KEYS
METRICS: tuple[str, ...] = tuple(Metric.values)
CHANNELS: tuple[str, ...] = tuple(Channel.values)
TAM_OPTIONS: tuple[str, ...] = tuple(TamOption.values)
NOTIFY_ROLES: tuple[str, ...] = tuple(NotifyRole.values)
CONDITION_LIMITS = ("base_plan", "no_technical_support")
ORGANIZATION_ZONE = "organization"
# plans.models.Resolution's values (a test keeps the two equal; this module stays ORM-free).
RESOLUTIONS = ("targets", "maintenance_release")
SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
PERIOD = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class PolicyError(Exception):
    """A policy file that cannot be loaded; `errors` holds one `path: message` line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class CalendarSpec:
    slug: str
    name: str
    timezone: str
    always_open: bool
    follows_organization: bool
    periods: list[tuple[int, int, int]]  # (weekday, start minute, end minute)
    holiday_countries: list[str]
    extra_closures: list[dt.date]


@dataclass
class SeveritySpec:
    level: int
    name: str
    definition: str
    examples: list[str]
    resolution: str = "targets"


@dataclass
class CategorySpec:
    slug: str
    name: str
    description: str
    channels: list[str]
    guarantee: str
    sla_applies: bool
    severity_levels: list[int]
    priority_flag: bool
    draws_enablement_hours: bool
    position: int


@dataclass
class TargetSpec:
    severity: int
    category: str | None
    calendar: str | None
    acknowledge: dt.timedelta | None
    first_response: dt.timedelta | None
    resolution: dt.timedelta | None
    note: str
    wording: dict[str, str] = field(default_factory=dict)
    assigned_until_resolved: bool = False


@dataclass
class EscalationSpec:
    severity: int
    category: str | None
    metric: str
    after: dt.timedelta | None
    after_percent: int | None
    notify: list[str]
    move_to: str
    position: int


@dataclass
class ConditionSpec:
    slug: str
    name: str
    description: str
    limit: str
    new_users_only: bool
    presumed_met: bool
    position: int


@dataclass
class PlanSpec:
    slug: str
    name: str
    description: str
    calendar: str
    base_plan: str | None
    position: int
    entitlements: dict[str, Any]
    notes: str
    priority: int = 0
    conditions: list[ConditionSpec] = field(default_factory=list)
    categories: list[CategorySpec] = field(default_factory=list)
    targets: list[TargetSpec] = field(default_factory=list)
    escalations: list[EscalationSpec] = field(default_factory=list)


@dataclass
class PolicySpec:
    slug: str
    name: str
    not_covered: list[str]
    severity_clarification: bool
    unwarranted_escalation_charges: bool
    notes: str
    calendars: list[CalendarSpec]
    severities: list[SeveritySpec]
    plans: list[PlanSpec]
    includes: list[str] = field(default_factory=list)
    prerequisites: list[str] = field(default_factory=list)
    contact: str = ""
    unwarranted_warn_after: int | None = None
    unwarranted_period_months: int | None = None
    unwarranted_charge: Decimal | None = None
    # How an emailed request names its severity ("[P{level}]"), and the level without a tag.
    email_severity_tag: str = ""
    email_default_severity: int | None = None


_MISSING = object()


class Node:
    """A mapping being read at `path`; records errors and, on `done()`, unknown keys."""

    def __init__(self, value: object, path: str, errors: list[str]) -> None:
        self.path = path
        self.errors = errors
        self.ok = isinstance(value, dict)
        self.data: dict[str, Any] = value if isinstance(value, dict) else {}
        self.seen: set[str] = set()
        if not self.ok:
            self.error(f"expected a mapping, got {_kind(value)}")

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, message: str, key: str | None = None) -> None:
        where = self.at(key) if key is not None else self.path or "(top)"
        self.errors.append(f"{where}: {message}")

    def raw(self, key: str, default: object = _MISSING) -> Any:
        self.seen.add(key)
        if key in self.data and self.data[key] is not None:
            return self.data[key]
        if default is _MISSING:
            if self.ok:
                self.error("is required", key)
            return None
        return default

    def text(self, key: str, default: object = _MISSING) -> str:
        value = self.raw(key, default)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.error(f"expected text, got {_kind(value)}", key)
            return ""
        return value.strip()

    def slug(self, key: str) -> str:
        value = self.text(key)
        if value and not SLUG.match(value):
            self.error(f"{value!r} is not a slug (letters, digits, - and _)", key)
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            self.error(f"expected true or false, got {_kind(value)}", key)
            return default
        return value

    def integer(self, key: str, default: object = _MISSING, minimum: int = 0) -> int | None:
        value = self.raw(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(f"expected a whole number, got {_kind(value)}", key)
            return None
        if value < minimum:
            self.error(f"must be at least {minimum}", key)
            return None
        return value

    def decimal(self, key: str) -> Decimal | None:
        value = self.raw(key, None)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.error(f"expected a number, got {_kind(value)}", key)
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.error(f"{value!r} is not a number", key)
            return None
        if number < 0 or not number.is_finite():
            self.error("must be zero or more", key)
            return None
        return number.quantize(Decimal("0.01"))

    def items(self, key: str, required: bool = False) -> Iterator[tuple[str, Any]]:
        value = self.raw(key, _MISSING if required else [])
        if value is None:
            return
        if not isinstance(value, list):
            self.error(f"expected a list, got {_kind(value)}", key)
            return
        for index, item in enumerate(value):
            yield f"{self.at(key)}[{index}]", item

    def texts(self, key: str) -> list[str]:
        result = []
        for path, item in self.items(key):
            if isinstance(item, str) and item.strip():
                result.append(item.strip())
            else:
                self.errors.append(f"{path}: expected text, got {_kind(item)}")
        return result

    def choices(self, key: str, allowed: tuple[str, ...]) -> list[str]:
        result = []
        for path, item in self.items(key):
            if item in allowed:
                result.append(item)
            else:
                self.errors.append(f"{path}: {item!r} is not one of {', '.join(allowed)}")
        return result

    def levels(self, key: str, known: set[int]) -> list[int]:
        result = []
        for path, item in self.items(key):
            if isinstance(item, int) and not isinstance(item, bool) and item in known:
                result.append(item)
            else:
                self.errors.append(f"{path}: no severity {item}")
        return result

    def done(self) -> None:
        for key in self.data:
            if key not in self.seen:
                self.error(f"unknown key {key!r}", str(key))


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, str):
        return f"{value!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    kinds: dict[type, str] = {dict: "a mapping", list: "a list"}
    return kinds.get(type(value), type(value).__name__)


def parse_duration(text: object) -> dt.timedelta:
    """`30m`, `4h`, `1h30m`, `45s` (and 0) to a timedelta; ValueError with the reason."""
    if text == 0 and not isinstance(text, bool):
        return dt.timedelta(0)
    if not isinstance(text, str):
        raise ValueError(f"expected a duration like 30m, 4h or 1h30m, got {_kind(text)}")
    match = DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"{text!r} is not a duration (write 30m, 4h or 1h30m)")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return dt.timedelta(hours=hours, minutes=minutes, seconds=seconds)


def parse_period(text: object) -> tuple[int, int]:
    """`09:00-18:00` to minutes since midnight (end up to 24:00); ValueError with the reason."""
    if not isinstance(text, str) or (match := PERIOD.match(text.strip())) is None:
        raise ValueError(f"{text!r} is not a period like 09:00-18:00")
    sh, sm, eh, em = (int(part) for part in match.groups())
    if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em):
        raise ValueError(f"{text!r} has a time that does not exist")
    start, end = sh * 60 + sm, eh * 60 + em
    if end <= start:
        raise ValueError(
            f"{text!r} ends before it starts; write an overnight shift as two periods "
            "(e.g. 22:00-24:00 and 00:00-06:00 the next day)"
        )
    return start, end


def _holiday_code(code: str) -> str | None:
    """Check a `GB-ENG`-style code against the holidays package; return an error or None."""
    country, _, subdivision = code.partition("-")
    supported = holidays.list_supported_countries()
    if country not in supported:
        return f"{country!r} is not a country the holidays package knows"
    if subdivision and subdivision not in supported[country]:
        return f"{subdivision!r} is not a subdivision of {country}"
    return None


def _calendar(node: Node) -> CalendarSpec:
    slug, name = node.slug("slug"), node.text("name", "")
    tz_name = node.text("timezone")
    follows_organization = tz_name == ORGANIZATION_ZONE
    if follows_organization:
        # Local business hours: the customer's zone; this one where no customer is known.
        tz_name = node.text("fallback_timezone", "UTC")
        tz_key = "fallback_timezone"
    else:
        node.raw("fallback_timezone", None)
        tz_key = "timezone"
    if tz_name:
        try:
            zoneinfo.ZoneInfo(tz_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            node.error(f"{tz_name!r} is not an IANA time zone (e.g. Europe/London)", tz_key)
    always_open = node.flag("always_open")
    periods: list[tuple[int, int, int]] = []
    hours = Node(node.raw("hours", {}), node.at("hours"), node.errors)
    for weekday, day in enumerate(WEEKDAYS):
        spans = []
        for path, text in hours.items(day):
            try:
                spans.append((*parse_period(text), path))
            except ValueError as exc:
                node.errors.append(f"{path}: {exc}")
        spans.sort()
        for (_, end, _), (start, _, path) in zip(spans, spans[1:], strict=False):
            if start < end:
                node.errors.append(f"{path}: overlaps the {day} period before it")
        periods += [(weekday, start, end) for start, end, _ in spans]
    hours.done()
    if always_open and periods:
        node.error("an always-open calendar takes no hours", "hours")
    if not always_open and not periods:
        node.error("a calendar needs hours (or always_open: true)", "hours")
    countries: list[str] = []
    extra: list[dt.date] = []
    if node.raw("holidays", None) is not None:
        hol = Node(node.raw("holidays"), node.at("holidays"), node.errors)
        country = hol.text("country", "")
        subdivision = hol.text("subdivision", "")
        if country:
            code = f"{country}-{subdivision}" if subdivision else country
            if problem := _holiday_code(code):
                hol.error(problem, "subdivision" if subdivision else "country")
            countries.append(code)
        elif subdivision:
            hol.error("needs a country", "subdivision")
        for path, code in hol.items("countries"):
            problem = (
                _holiday_code(code) if isinstance(code, str) else "expected a code like GB-ENG"
            )
            if problem:
                node.errors.append(f"{path}: {problem}")
            else:
                countries.append(code)
        for path, item in hol.items("extra"):
            if isinstance(item, dt.date) and not isinstance(item, dt.datetime):
                extra.append(item)
                continue
            try:
                extra.append(dt.date.fromisoformat(str(item)))
            except ValueError:
                node.errors.append(f"{path}: {item!r} is not a date (YYYY-MM-DD)")
        hol.done()
    node.done()
    return CalendarSpec(
        slug=slug,
        name=name or slug,
        timezone=tz_name,
        always_open=always_open,
        follows_organization=follows_organization,
        periods=periods,
        holiday_countries=list(dict.fromkeys(countries)),
        extra_closures=sorted(set(extra)),
    )


def _severity(node: Node) -> SeveritySpec:
    spec = SeveritySpec(
        level=node.integer("level", minimum=1) or 0,
        name=node.text("name"),
        definition=node.text("definition", ""),
        examples=node.texts("examples"),
        resolution=node.text("resolution", "targets"),
    )
    if spec.resolution not in RESOLUTIONS:
        node.error(f"{spec.resolution!r} is not one of {', '.join(RESOLUTIONS)}", "resolution")
    node.done()
    return spec


def _entitlements(node: Node, known_levels: set[int]) -> dict[str, Any]:
    tam = node.text("technical_account_manager", "none")
    if tam not in TAM_OPTIONS:
        node.error(f"{tam!r} is not one of {', '.join(TAM_OPTIONS)}", "technical_account_manager")
        tam = "none"
    values = {
        "channels": node.choices("channels", CHANNELS),
        "self_help": node.flag("self_help", True),
        "priority_routing": node.flag("priority_routing"),
        "assisted_onboarding": node.flag("assisted_onboarding"),
        "customer_success_manager": node.flag("customer_success_manager"),
        "account_manager": node.flag("account_manager"),
        "technical_account_manager": tam,
        "named_contacts": node.integer("named_contacts", None),
        "development_escalation_priority": node.flag("development_escalation_priority"),
        "post_incident_report_levels": node.levels("post_incident_reports", known_levels),
        "customer_escalation_levels": node.levels("customer_escalation", known_levels),
        "monthly_support_hours": node.decimal("monthly_support_hours"),
        "hours_rollover": node.flag("hours_rollover"),
        "poolable_months": node.integer("poolable_months", 1, minimum=1) or 1,
        "overage_billed": node.flag("overage_billed"),
        "enablement_hours_per_year": node.decimal("enablement_hours_per_year"),
        "enablement_hours_capped": node.flag("enablement_hours_capped"),
        "all_time_billed": node.flag("all_time_billed"),
    }
    node.done()
    return values


def _duration_or_none(node: Node, key: str) -> dt.timedelta | None:
    value = node.raw(key, None)
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        node.error(str(exc), key)
        return None


def _reference(node: Node, key: str, known: set[str], what: str) -> str | None:
    value = node.raw(key, None)
    if value is None:
        return None
    if value not in known:
        node.error(f"no {what} {value!r}", key)
        return None
    return str(value)


def _severity_ref(node: Node, known: set[int]) -> int:
    value = node.raw("severity")
    if value is not None and (isinstance(value, bool) or value not in known):
        node.error(f"no severity {value}", "severity")
        return 0
    return value or 0


def _plan(
    node: Node, position: int, calendars: set[str], levels: set[int], plan_slugs: set[str]
) -> PlanSpec:
    plan = PlanSpec(
        slug=node.slug("slug"),
        name=node.text("name"),
        description=node.text("description", ""),
        calendar=node.text("calendar"),
        base_plan=_reference(node, "base_plan", plan_slugs, "plan in this file"),
        position=position,
        entitlements=_entitlements(
            Node(node.raw("entitlements", {}), node.at("entitlements"), node.errors), levels
        ),
        notes=node.text("notes", ""),
        priority=_priority(node),
    )
    for index, (path, item) in enumerate(node.items("conditions")):
        plan.conditions.append(_condition(Node(item, path, node.errors), index))
    _unique(node, "conditions", [c.slug for c in plan.conditions], "slug")
    if plan.calendar and plan.calendar not in calendars:
        node.error(f"no calendar {plan.calendar!r}", "calendar")
    if plan.base_plan == plan.slug and plan.slug:
        node.error("a plan cannot be its own base plan", "base_plan")
    for index, (path, item) in enumerate(node.items("categories")):
        plan.categories.append(_category(Node(item, path, node.errors), index, levels))
    _unique(node, "categories", [c.slug for c in plan.categories], "slug")
    category_slugs = {c.slug for c in plan.categories}
    for path, item in node.items("targets"):
        target = _target(Node(item, path, node.errors), calendars, levels, category_slugs)
        plan.targets.append(target)
    seen: dict[tuple[int, str | None], int] = {}
    for index, target in enumerate(plan.targets):
        key = (target.severity, target.category)
        if key in seen:
            node.errors.append(
                f"{node.at('targets')}[{index}]: repeats targets[{seen[key]}] "
                f"(severity {target.severity}{', ' + target.category if target.category else ''})"
            )
        seen.setdefault(key, index)
    for index, (path, item) in enumerate(node.items("escalations")):
        rule = _escalation(Node(item, path, node.errors), index, levels, category_slugs)
        _check_percent(rule, plan.targets, path, node.errors)
        plan.escalations.append(rule)
    node.done()
    return plan


def _category(node: Node, position: int, levels: set[int]) -> CategorySpec:
    spec = CategorySpec(
        slug=node.slug("slug"),
        name=node.text("name"),
        description=node.text("description", ""),
        channels=node.choices("channels", CHANNELS),
        guarantee=node.text("guarantee", ""),
        sla_applies=node.flag("sla_applies", True),
        severity_levels=node.levels("severities", levels),
        priority_flag=node.flag("priority_flag"),
        draws_enablement_hours=node.flag("enablement"),
        position=position,
    )
    node.done()
    return spec


def _target(node: Node, calendars: set[str], levels: set[int], categories: set[str]) -> TargetSpec:
    spec = TargetSpec(
        severity=_severity_ref(node, levels),
        category=_reference(node, "category", categories, "category of this plan"),
        calendar=_reference(node, "calendar", calendars, "calendar"),
        acknowledge=_duration_or_none(node, "acknowledge"),
        first_response=_duration_or_none(node, "first_response"),
        resolution=_duration_or_none(node, "resolution"),
        note=node.text("note", ""),
        assigned_until_resolved=node.flag("assigned_until_resolved"),
    )
    spec.wording = _wording(node, spec)
    node.done()
    return spec


def _priority(node: Node) -> int:
    value = node.raw("priority", 0)
    if isinstance(value, bool) or not isinstance(value, int):
        node.error(f"expected a whole number (higher goes first), got {_kind(value)}", "priority")
        return 0
    if not -1000 <= value <= 1000:
        node.error("must be between -1000 and 1000", "priority")
        return 0
    return value


def _condition(node: Node, position: int) -> ConditionSpec:
    limit = node.text("limit")
    if limit and limit not in CONDITION_LIMITS:
        node.error(f"{limit!r} is not one of {', '.join(CONDITION_LIMITS)}", "limit")
    spec = ConditionSpec(
        slug=node.slug("slug"),
        name=node.text("name"),
        description=node.text("description", ""),
        limit=limit,
        new_users_only=node.flag("new_users_only"),
        presumed_met=node.flag("presumed_met"),
        position=position,
    )
    node.done()
    return spec


def _wording(node: Node, spec: TargetSpec) -> dict[str, str]:
    """`wording: "2 - 4 business days"` (every metric of the row that has a target) or
    `wording: {acknowledge: ..., first_response: ...}`."""
    value = node.raw("wording", None)
    if value is None:
        return {}
    if isinstance(value, str):
        text = value.strip()
        metrics = [m for m in METRICS if getattr(spec, m) is not None]
        if not metrics:
            node.error("the row has no target for the wording to describe", "wording")
        return {metric: text for metric in metrics if text}
    words = Node(value, node.at("wording"), node.errors)
    result = {}
    for metric in METRICS:
        text = words.text(metric, "")
        if text:
            if getattr(spec, metric) is None:
                words.error(f"no {metric} target in this row", metric)
            result[metric] = text
    words.done()
    return result


def _unwarranted(meta: Node) -> tuple[bool, int | None, int | None, Decimal | None]:
    """`unwarranted_escalation_charges: true`, or a mapping with the terms:
    `{warn_after: 3, period_months: 3, charge: 150}`."""
    value = meta.raw("unwarranted_escalation_charges", False)
    if isinstance(value, bool):
        return value, None, None, None
    terms = Node(value, meta.at("unwarranted_escalation_charges"), meta.errors)
    warn_after = terms.integer("warn_after", minimum=1)
    period = terms.integer("period_months", minimum=1)
    charge = terms.decimal("charge")
    if charge is None and terms.ok:
        terms.raw("charge")
    terms.done()
    return True, warn_after, period, charge


def _escalation(
    node: Node, position: int, levels: set[int], categories: set[str]
) -> EscalationSpec:
    metric = node.text("metric")
    if metric and metric not in METRICS:
        node.error(f"{metric!r} is not one of {', '.join(METRICS)}", "metric")
    after, percent = None, None
    raw_after = node.raw("after")
    if isinstance(raw_after, str) and raw_after.strip().endswith("%"):
        digits = raw_after.strip()[:-1]
        if digits.isdigit() and int(digits) >= 1:
            percent = int(digits)
        else:
            node.error(f"{raw_after!r} is not a percentage like 75%", "after")
    elif raw_after is not None:
        try:
            after = parse_duration(raw_after)
        except ValueError as exc:
            node.error(f"{exc}, or a percentage of the target like 75%", "after")
    notify = []
    for path, item in node.items("notify", required=True):
        if _notify_ok(item):
            notify.append(item)
        else:
            node.errors.append(
                f"{path}: {item!r} is not a recipient ({', '.join(NOTIFY_ROLES)}, "
                "group:<name> or email:<address>)"
            )
    move_to = node.text("move_to", "")
    if move_to and not SLUG.match(move_to):
        node.error(f"{move_to!r} is not a queue slug", "move_to")
    spec = EscalationSpec(
        severity=_severity_ref(node, levels),
        category=_reference(node, "category", categories, "category of this plan"),
        metric=metric,
        after=after,
        after_percent=percent,
        notify=notify,
        move_to=move_to,
        position=position,
    )
    node.done()
    return spec


def _notify_ok(item: object) -> bool:
    if not isinstance(item, str):
        return False
    if item in NOTIFY_ROLES:
        return True
    kind, _, rest = item.partition(":")
    if kind == "group":
        return bool(rest.strip())
    return kind == "email" and bool(EMAIL.match(rest))


def _check_percent(
    rule: EscalationSpec, targets: list[TargetSpec], path: str, errors: list[str]
) -> None:
    """A percentage needs a target for that metric on the row the ticket will use."""
    if rule.after_percent is None or rule.metric not in METRICS:
        return
    rows = {(t.severity, t.category): t for t in targets}
    row = rows.get((rule.severity, rule.category)) or rows.get((rule.severity, None))
    if row is None or getattr(row, rule.metric) is None:
        errors.append(
            f"{path}.after: {rule.after_percent}% needs a {rule.metric} target for severity "
            f"{rule.severity}{' (' + rule.category + ')' if rule.category else ''}; "
            "give a duration instead"
        )


def _unique(node: Node, key: str, values: list[str], what: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value and value in seen:
            node.errors.append(f"{node.at(key)}[{index}].{what}: {value!r} appears twice")
        seen.add(value)


def _collect(
    top: Node, key: str, build: Callable[[Node, int], Any], required: bool = True
) -> list[Any]:
    items = enumerate(top.items(key, required))
    return [build(Node(item, path, top.errors), index) for index, (path, item) in items]


def parse_policy(data: object, default_slug: str) -> PolicySpec:
    errors: list[str] = []
    top = Node(data, "", errors)
    meta = Node(top.raw("policy", {}), "policy", errors)
    slug = meta.slug("slug") if "slug" in meta.data else default_slug
    if not SLUG.match(slug or ""):
        meta.error(f"{slug!r} is not a slug; add policy.slug", "slug")
    name = meta.text("name", "") or slug
    not_covered = meta.texts("not_covered")
    clarification = meta.flag("severity_clarification", True)
    charges, warn_after, period_months, charge = _unwarranted(meta)
    notes = meta.text("notes", "")
    includes = meta.texts("includes")
    prerequisites = meta.texts("prerequisites")
    contact = meta.text("contact", "")
    email = Node(meta.raw("email", {}), meta.at("email"), errors)
    severity_tag = email.text("severity_tag", "")
    if severity_tag and severity_tag.count("{level}") != 1:
        email.error(
            f"{severity_tag!r} must contain {{level}} once, e.g. [P{{level}}]", "severity_tag"
        )
    default_severity = email.integer("default_severity", None, minimum=1)
    email.done()
    meta.done()

    calendars = _collect(top, "calendars", lambda n, _: _calendar(n))
    _unique(top, "calendars", [c.slug for c in calendars], "slug")
    severities = _collect(top, "severities", lambda n, _: _severity(n))
    _unique(top, "severities", [str(s.level) for s in severities], "level")
    if default_severity is not None and default_severity not in {s.level for s in severities}:
        email.error(f"no severity {default_severity}", "default_severity")
    calendar_slugs = {c.slug for c in calendars if c.slug}
    levels = {s.level for s in severities if s.level}
    raw_plans = top.raw("plans")
    plan_slugs = {
        item["slug"]
        for item in (raw_plans if isinstance(raw_plans, list) else [])
        if isinstance(item, dict) and isinstance(item.get("slug"), str)
    }
    plans = _collect(top, "plans", lambda n, i: _plan(n, i, calendar_slugs, levels, plan_slugs))
    _unique(top, "plans", [p.slug for p in plans], "slug")
    top.done()
    if errors:
        raise PolicyError(errors)
    return PolicySpec(
        slug=slug,
        name=name,
        not_covered=not_covered,
        severity_clarification=clarification,
        unwarranted_escalation_charges=charges,
        notes=notes,
        email_severity_tag=severity_tag,
        email_default_severity=default_severity,
        calendars=calendars,
        severities=severities,
        plans=plans,
        includes=includes,
        prerequisites=prerequisites,
        contact=contact,
        unwarranted_warn_after=warn_after,
        unwarranted_period_months=period_months,
        unwarranted_charge=charge,
    )
