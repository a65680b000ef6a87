"""Fault injection for the delivery test: qcluster processes that kill themselves (SIGKILL) at
exact points. Installed only by `tests.fault.settings`, never by the product's settings."""
