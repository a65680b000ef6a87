"""`python manage.py recalculate_sla [--calendar SLUG] [--plan SLUG]`: retarget open clocks.

Run it after changing a calendar's hours or closures or a plan's targets (the admin has the same
as an action). Met and breached history stays as it was.
"""

from argparse import ArgumentParser
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from plans.models import Plan
from sla.models import BusinessCalendar
from sla.recalculation import clocks_recalculate, live_clock_count


class Command(BaseCommand):
    help = "Retarget open SLA clocks after a calendar, closure or target changed."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--calendar",
            action="append",
            default=[],
            metavar="SLUG",
            help="only clocks on this calendar (repeatable)",
        )
        parser.add_argument(
            "--plan",
            action="append",
            default=[],
            metavar="SLUG",
            help="only clocks of this plan (repeatable)",
        )

    def handle(self, *args: Any, calendar: list[str], plan: list[str], **options: Any) -> None:
        calendar_ids = list(
            BusinessCalendar.objects.filter(slug__in=calendar).values_list("pk", flat=True)
        )
        plan_ids = list(Plan.objects.filter(slug__in=plan).values_list("pk", flat=True))
        if calendar and not calendar_ids:
            raise CommandError(f"--calendar: no calendar {', '.join(calendar)}")
        if plan and not plan_ids:
            raise CommandError(f"--plan: no plan {', '.join(plan)}")
        scope: dict[str, Any] = {}
        if calendar or plan:
            scope = {"calendar_ids": calendar_ids, "plan_ids": plan_ids}
        total = live_clock_count(**scope)
        # The wrapped stream itself: OutputWrapper.write would end every redraw with a newline.
        stream: TextIO = self.stderr._out  # type: ignore[assignment]  # private, typed Callable
        with tqdm(total=total, unit="clock", file=stream, disable=options["verbosity"] == 0) as bar:
            changed = clocks_recalculate(**scope, progress=bar.update)
        self.stdout.write(f"{total} open clock(s) checked, {changed} retargeted.")
