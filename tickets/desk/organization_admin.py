"""The organizations page, with what the desk knows of them: unwarranted customer escalations.

`plans` and `sla` must not know about tickets, so the organization page (as `sla.admin` last
registered it) is re-registered here as a subclass that adds the column.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from plans.admin import changelist_link
from plans.models import Organization
from sla.admin import organizations as sla_organizations

admin.site.unregister(Organization)


@admin.register(Organization)
class OrganizationAdmin(sla_organizations.OrganizationAdmin):
    list_display = [*sla_organizations.OrganizationAdmin.list_display, "unwarranted_escalations"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                unwarranted_total=Count(
                    "customer_escalations",
                    filter=Q(customer_escalations__unwarranted=True),
                    distinct=True,
                )
            )
        )

    @admin.display(description="unwarranted escalations", ordering="unwarranted_total")
    def unwarranted_escalations(self, obj: Organization) -> SafeString | int:
        total = obj.unwarranted_total  # type: ignore[attr-defined]
        if not total:
            return 0
        return changelist_link(
            "tickets.customerescalation",
            total,
            organization__id__exact=obj.pk,
            unwarranted__exact=1,
        )
