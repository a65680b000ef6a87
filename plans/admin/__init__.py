"""Admin for plans: each policy as written, the plans' entitlement matrix, customers and contacts.

plans must not import sla (imports point tickets -> sla -> plans), so what sla owns about a plan or
a policy (support hours, targets, escalation rules, calendars) is added to these pages by
`sla.admin.plans`, which re-registers `PlanAdmin` and `PolicyAdmin` as subclasses with more inlines.

JSON lists are edited the way the policy files write them: channels as tick boxes, texts one per
line, severity levels as `1, 2`.
"""

from helpdesk.adminkit import ReadOnlyInline  # its home is helpdesk.adminkit; kept importable here
from plans.admin import contact_changes, customers, history, policies
from plans.admin.display import (
    EMPTY,
    add_link,
    admin_link,
    changelist_link,
    html_table,
)
from plans.admin.fields import FormFieldsMixin, TextListField
from plans.admin.plans import PlanAdmin
from plans.admin.policies import PolicyAdmin

__all__ = [
    "EMPTY",
    "FormFieldsMixin",
    "PlanAdmin",
    "PolicyAdmin",
    "ReadOnlyInline",
    "TextListField",
    "add_link",
    "admin_link",
    "changelist_link",
    "contact_changes",
    "customers",
    "history",
    "html_table",
    "policies",
]
