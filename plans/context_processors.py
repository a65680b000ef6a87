from django.http import HttpRequest
from django.utils import timezone


def viewer(request: HttpRequest) -> dict[str, object]:
    """`viewer_tz`: the zone times on the page are shown in (named beside them)."""
    return {"viewer_tz": timezone.get_current_timezone_name()}
