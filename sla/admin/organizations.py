"""What sla adds to the organization page: the people its escalation ladders will not reach."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from plans.admin.customers import OrganizationAdmin as BaseOrganizationAdmin
from plans.models import Organization
from sla.ladders import ladder_gaps

admin.site.unregister(Organization)


@admin.register(Organization)
class OrganizationAdmin(BaseOrganizationAdmin):
    readonly_fields = [*BaseOrganizationAdmin.readonly_fields, "ladder_check"]
    fieldsets = [
        *BaseOrganizationAdmin.fieldsets[:2],
        ("Escalation ladders", {"fields": ["ladder_check"]}),
        *BaseOrganizationAdmin.fieldsets[2:],
    ]

    @admin.display(description="who the ladders reach")
    def ladder_check(self, obj: Organization) -> SafeString | str:
        if obj.pk is None:
            return "Save the organization and add a contract first."
        gaps = ladder_gaps(organization=obj)
        if not gaps:
            return "Every person the escalation rules of its plan name is recorded."
        items = format_html_join("", "<li>{}: {}</li>", ((gap.role, gap.reason) for gap in gaps))
        return format_html(
            '<strong class="errornote">Missing: the support managers will be told instead.'
            "</strong><ul>{}</ul>",
            items,
        )
