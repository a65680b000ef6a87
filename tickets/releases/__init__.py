"""Maintenance releases: tickets planned for a version, resolved when it is published."""
