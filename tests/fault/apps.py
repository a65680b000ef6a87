"""Wraps three product functions in the qcluster's processes so that a worker SIGKILLs itself:

- `after-sweep-commit`: the sweep's transaction has committed (firings and their notification
  rows are in the database) and its on-commit callbacks have enqueued two send tasks of ten;
  the rest are never enqueued.
- `mid-send`: a send task has claimed a row (`sending`, committed) and dies before handing it
  to the mail backend, with the rest of its batch still pending.

Each point fires once across all processes (an exclusive marker file in `$FAULT_DIR`); the
cluster's sentinel then starts a new worker, as it does after any sudden death.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from django.apps import AppConfig

SWEEP_ENQUEUES_BEFORE_DEATH = 2
SENDS_BEFORE_DEATH = 4


def kill_once(point: str) -> None:
    marker = Path(os.environ["FAULT_DIR"]) / point
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)


class FaultConfig(AppConfig):
    name = "tests.fault"
    label = "fault"

    def ready(self) -> None:
        if not os.environ.get("FAULT_DIR"):
            return
        # Imported here: the product's modules load only once every app is ready.
        import sla.tasks  # noqa: PLC0415
        from helpdesk import mail  # noqa: PLC0415
        from tickets import notifications  # noqa: PLC0415

        state = {"in_sweep": False, "enqueued": 0, "sends": 0}
        sweep_task, enqueue, send = sla.tasks.sweep_task, notifications.enqueue, mail.send

        def sweep_with_fault() -> dict[str, int]:
            state["in_sweep"], state["enqueued"] = True, 0
            try:
                return sweep_task()
            finally:
                state["in_sweep"] = False

        def enqueue_with_fault(ids: list[int]) -> None:
            if state["in_sweep"]:
                if state["enqueued"] == SWEEP_ENQUEUES_BEFORE_DEATH:
                    kill_once("after-sweep-commit")
                state["enqueued"] += 1
            enqueue(ids)

        def send_with_fault(**kwargs: Any) -> None:
            if state["sends"] == SENDS_BEFORE_DEATH:
                kill_once("mid-send")
            state["sends"] += 1
            send(**kwargs)

        sla.tasks.sweep_task = sweep_with_fault
        notifications.enqueue = enqueue_with_fault
        mail.send = send_with_fault
