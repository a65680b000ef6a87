"""Managers' pages: SLA breach report, CSV, monthly statements and the support-hours report.

Presentation on top of the domain: it imports `tickets`, `sla` and `plans`, and nothing imports it.
"""
