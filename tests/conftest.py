import os
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from plans import policy_cache


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` need PostgreSQL's behaviour; CI runs them, SQLite skips them."""
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))
    if on_postgres:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); runs in CI")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def empty_policy_cache() -> None:
    """Each test starts with an empty policy cache: on SQLite a test's rolled-back rows (and
    their primary keys) come back in the next test, under a revision that differs only by the
    clock (see plans 0007)."""
    policy_cache.clear()


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def superuser(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")


@pytest.fixture
def staff(client: Client, superuser: Any) -> Client:
    """A client signed in as the superuser."""
    client.force_login(superuser)
    return client
