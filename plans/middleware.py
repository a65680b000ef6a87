"""Show times in the viewer's zone: the profile's choice, else the organization's, else UTC."""

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from plans.selectors import viewer_time_zone


class ViewerTimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            timezone.activate(zoneinfo.ZoneInfo(viewer_time_zone(user=request.user)))
        else:
            timezone.deactivate()
        return self.get_response(request)
