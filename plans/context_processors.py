from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from plans.roles import is_support_manager


def viewer(request: HttpRequest) -> dict[str, object]:
    """`viewer_tz`: the zone times on the page are shown in (named beside them);
    `is_support_manager`: whether to offer the managers' reports (read only when used)."""
    return {
        "viewer_tz": timezone.get_current_timezone_name(),
        "is_support_manager": SimpleLazyObject(lambda: is_support_manager(request.user)),
    }
