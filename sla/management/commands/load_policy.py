"""`python manage.py load_policy FILE [FILE ...] [--dry-run]`: load support policies."""

import getpass
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sla.policy.loader import LoadResult, load_policy_file
from sla.policy.schema import PolicyError


class Command(BaseCommand):
    help = "Load support policy files (YAML or JSON): upsert by slug, all or nothing."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would change; write nothing."
        )

    def handle(self, *args: Any, files: list[Path], dry_run: bool, **options: Any) -> None:
        results: list[LoadResult] = []
        # Recorded on the policy's change log: the account that ran the command.
        by = f"{getpass.getuser()} (load_policy)"
        try:
            with transaction.atomic():
                for path in files:
                    results.append(load_policy_file(path, dry_run=dry_run, by=by))
        except PolicyError as exc:
            where = path if len(files) > 1 else ""
            lines = "\n".join(f"  {where and str(where) + ': '}{line}" for line in exc.errors)
            raise CommandError(f"{len(exc.errors)} error(s); nothing was loaded:\n{lines}") from exc
        for path, result in zip(files, results, strict=True):
            self.report(path, result, options["verbosity"])
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")

    def report(self, path: Path, result: LoadResult, verbosity: int) -> None:
        verb = "would be" if result.dry_run else ""
        summary = ", ".join(
            f"{result.count(action)} {label}"
            for action, label in (
                ("create", "created"),
                ("update", "changed"),
                ("remove", "removed"),
            )
        )
        if not result.changes:
            summary = "no changes"
        self.stdout.write(f"{result.policy} ({path}): {summary}{' (' + verb + ')' if verb else ''}")
        if verbosity >= 1 and (result.dry_run or verbosity >= 2):
            for change in result.changes:
                self.stdout.write(f"  {change}")
        if result.gaps:
            self.stdout.write(
                f"  {len(result.gaps)} organization(s) lack a person an escalation ladder names "
                "(the support managers would be told instead):"
            )
            for gap in result.gaps:
                self.stdout.write(f"    ! {gap}")
