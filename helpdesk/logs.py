"""Log context: a request id on every line of a request, and the ticket it is about.

`RequestIdMiddleware` takes the caller's `X-Request-ID` (a proxy's or load balancer's) when it
looks like an id, makes one otherwise, keeps it in a context variable for the request and
returns it in the response header, so one id follows a request from the proxy's log through
gunicorn's access line to ours. `ContextFilter` puts the id and the ticket reference on every
record, and keeps a 4xx from `django.request` to its one line (no traceback, no request object).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

request_id: ContextVar[str] = ContextVar("request_id", default="-")
ticket_reference: ContextVar[str] = ContextVar("ticket_reference", default="")

HEADER = "X-Request-ID"
# What we accept from outside: short, printable, no spaces (it is written into logs as is).
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:@/+=-]{8,128}$")


def new_request_id(offered: str | None = None) -> str:
    if offered and _ACCEPTABLE.match(offered):
        return offered
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = new_request_id(request.headers.get(HEADER))
        request.request_id = rid  # type: ignore[attr-defined]
        rid_token = request_id.set(rid)
        ref_token = ticket_reference.set("")
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(rid_token)
            ticket_reference.reset(ref_token)
        response[HEADER] = rid
        return response

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        # The portal's ticket URLs name the ticket by its reference.
        reference = kwargs.get("reference")
        if isinstance(reference, str):
            ticket_reference.set(reference[:20])


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request_id"):  # another handler's filter already did it
            return True
        request = record.__dict__.pop("request", None)
        record.request_id = request_id.get()
        reference = ticket_reference.get()
        if request is not None:
            # django.request logs a 4xx/5xx after the middleware returned: read the request.
            record.request_id = getattr(request, "request_id", request_id.get())
            record.method = getattr(request, "method", "")
            record.path = getattr(request, "path", "")
            match = getattr(request, "resolver_match", None)
            if match is not None and isinstance(match.kwargs.get("reference"), str):
                reference = match.kwargs["reference"][:20]
        if reference and not getattr(record, "ticket", ""):
            record.ticket = reference
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            # A refused or missing page is an answer, not an error: one line, no traceback.
            record.exc_info = None
            record.exc_text = None
        return True
