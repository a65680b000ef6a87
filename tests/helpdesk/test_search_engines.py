"""What search engines (and Lighthouse's SEO audit) see: robots.txt and a page description."""

import pytest
from django.test import Client


def test_robots_txt_opens_the_help_centre_and_closes_the_signed_in_pages(client: Client) -> None:
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "Allow: /help/" in lines
    assert {"Disallow: /admin/", "Disallow: /tickets/", "Disallow: /reports/"} <= set(lines)


@pytest.mark.django_db
def test_the_sign_in_page_has_a_description(client: Client) -> None:
    response = client.get("/accounts/login/")

    assert b'<meta name="description" content="Customer support:' in response.content
