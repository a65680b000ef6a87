"""Tasks go to django-q2 through one broker per process (a new one would open a connection)."""

from __future__ import annotations

import pytest

from helpdesk import queue

pytestmark = pytest.mark.django_db

RAN: list[int] = []


def remember(value: int) -> None:
    RAN.append(value)


def test_every_caller_shares_the_processs_broker() -> None:
    assert queue.broker() is queue.broker()


def test_a_task_handed_over_is_run() -> None:
    RAN.clear()
    queue.enqueue("tests.helpdesk.test_queue.remember", 7)  # the tests run tasks in-process
    assert RAN == [7]
