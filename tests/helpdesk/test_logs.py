"""Logs: a request id on every line (the caller's X-Request-ID honoured), the ticket reference
where there is one, and a 404 as one line without a traceback."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The production handler (JSON formatter and context filter) writing to a buffer."""
    config = settings.LOGGING
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter = config["formatters"]["json"]
    handler.setFormatter(
        __import__("pythonjsonlogger.json", fromlist=["JsonFormatter"]).JsonFormatter(
            formatter["format"], rename_fields=formatter["rename_fields"]
        )
    )
    from helpdesk.logs import ContextFilter  # noqa: PLC0415 - the class under test

    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    # The test settings quiet django.request to errors; these tests read its 4xx lines.
    requests = logging.getLogger("django.request")
    level = requests.level
    requests.setLevel(logging.WARNING)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        requests.setLevel(level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_it_returns_a_request_id_and_honours_the_callers() -> None:
    made = Client().get("/healthz")["X-Request-ID"]
    assert len(made) == 32
    given = Client().get("/healthz", HTTP_X_REQUEST_ID="lb-1234abcd")["X-Request-ID"]
    assert given == "lb-1234abcd"
    unsafe = Client().get("/healthz", HTTP_X_REQUEST_ID="bad id\nforged")["X-Request-ID"]
    assert unsafe != "bad id\nforged" and len(unsafe) == 32


def test_a_404_is_one_json_line_with_the_request_id_and_ticket(
    json_lines: io.StringIO, django_user_model: object
) -> None:
    client = Client()
    client.force_login(django_user_model.objects.create_user("someone"))  # type: ignore[attr-defined]
    client.get("/tickets/HD-999999/", HTTP_X_REQUEST_ID="req-00000001")
    records = [r for r in lines(json_lines) if r["logger"] == "django.request"]
    assert len(records) == 1
    record = records[0]
    assert record["level"] == "WARNING"
    assert record["status_code"] == 404
    assert record["request_id"] == "req-00000001"
    assert record["ticket"] == "HD-999999"
    assert record["path"] == "/tickets/HD-999999/"
    assert "exc_info" not in record
    assert "Traceback" not in json_lines.getvalue()


def test_a_line_outside_a_request_has_no_request_id(json_lines: io.StringIO) -> None:
    logging.getLogger("helpdesk.test").warning("from a worker")
    (record,) = lines(json_lines)
    assert record["message"] == "from a worker"
    assert record["request_id"] == "-"


def test_a_403_keeps_to_one_line_and_a_500_keeps_its_traceback(json_lines: io.StringIO) -> None:
    log = logging.getLogger("django.request")
    for status in (403, 500):
        try:
            raise PermissionError("no")
        except PermissionError:
            log.warning("status %s", status, exc_info=True, extra={"status_code": status})
    forbidden, failed = lines(json_lines)
    assert forbidden["status_code"] == 403 and "exc_info" not in forbidden
    assert failed["status_code"] == 500 and "PermissionError" in failed["exc_info"]
