"""Every page has an icon: /favicon.ico answers, and the base templates link it."""

import pytest
from django.urls import reverse


def test_favicon_ico_is_served_not_a_404(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", [reverse("admin:login"), reverse("technician:login"), "/booking/l/dead/"])
def test_every_base_template_links_the_icon(client, url):
    html = client.get(url).content.decode()

    assert '<link rel="icon" href="/favicon.ico"' in html
    assert 'rel="icon" href="/static/favicon.svg" type="image/svg+xml"' in html
