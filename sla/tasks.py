"""django-q2 tasks of the SLA app."""

from dataclasses import asdict

from sla.services import sweep


def sweep_task() -> dict[str, int]:
    """Run by the `sla-sweep` schedule every minute (see `setup_schedules`)."""
    return asdict(sweep())
