"""Admin for sla: business calendars, support hours, response targets and escalation rules.

Durations read and are written as in the policy files (`1h30m`; empty: no guarantee) and open
periods as `HH:MM`. plans must not import sla, so this module also adds what sla owns to the plans
pages: `PlanAdmin` and `PolicyAdmin` are re-registered here as subclasses that show the plan's
support hours, targets and escalation rules, and the policy's calendars.
"""

from sla.admin import calendars, fields, organizations, plans, targets
from sla.admin.fields import SeverityLevelFilter

__all__ = ["SeverityLevelFilter", "calendars", "fields", "organizations", "plans", "targets"]
