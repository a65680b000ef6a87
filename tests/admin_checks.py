"""Checks every admin test suite runs on its app's pages: each page opens, changelists cost the
same queries for more rows, and the POST a browser would send when saving a page unchanged."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.messages import get_messages
from django.db import connection, models
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.builders.admin_dataset import build_admin_dataset


def registered(app_label: str) -> list[type[models.Model]]:
    return [model for model in admin.site._registry if model._meta.app_label == app_label]


def model_name(model: type[models.Model]) -> str:
    return model.__name__


def admin_url(model: type[models.Model], page: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


def check_pages_open(client: Client, user: Any, model: type[models.Model], page: str) -> None:
    """The changelist, add and change page of `model` open (add: 403 where the admin forbids it)."""
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = user
    expected = 200
    if page == "add":
        url = admin_url(model, "add")
        expected = 200 if model_admin.has_add_permission(request) else 403
    elif page == "change":
        obj = model._default_manager.first()
        assert obj is not None, f"the data set has no {model.__name__}"
        url = admin_url(model, "change", obj.pk)
    else:
        url = admin_url(model, "changelist")
    response = client.get(url)
    assert response.status_code == expected, url


def check_changelist_queries_do_not_grow(client: Client, model: type[models.Model]) -> None:
    """Twice the rows, the same number of queries."""
    url = admin_url(model, "changelist")
    client.get(url)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url).status_code == 200
    build_admin_dataset("b")
    with CaptureQueriesContext(connection) as after:
        assert client.get(url).status_code == 200
    assert len(after) == len(before), [q["sql"] for q in after.captured_queries]


def form_data(response: Any) -> dict[str, Any]:
    """The POST a browser sends when saving an admin change page without touching anything."""
    data: dict[str, Any] = {}

    def add(form: forms.BaseForm) -> None:
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(item) for item in value]
            elif value is not None:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        initial = formset.initial_form_count()
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        data[management.add_prefix("TOTAL_FORMS")] = initial
        for form in formset.forms[:initial]:
            add(form)
    return data


def message_texts(response: Any) -> list[str]:
    """The messages (django.contrib.messages) the response's request carried."""
    return [str(message) for message in get_messages(response.wsgi_request)]
