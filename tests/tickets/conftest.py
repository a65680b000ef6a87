"""Fixtures of the tickets tests: the portal world of two organizations; media kept apart."""

from pathlib import Path
from typing import Any

import pytest

from tests.builders.portal import PortalWorld, build_portal_world


@pytest.fixture
def world(db: None) -> PortalWorld:
    return build_portal_world()


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    """Uploaded files go to a temporary folder, never the project's media."""
    settings.MEDIA_ROOT = tmp_path / "media"
