"""The frame's cached pieces (config.templatetags.page_chrome) give what their includes gave, per request."""

import re

import pytest
from django.template import Context, RequestContext, Template
from django.test import RequestFactory
from django.utils import translation

SWITCH = 'form_class="d-flex align-items-center gap-2"'


def render(source: str, path: str) -> tuple[str, str]:
    """The HTML with its CSRF token (masked anew for each use) replaced by TOKEN, and the token."""
    html = Template("{% load page_chrome %}" + source).render(RequestContext(RequestFactory().get(path)))
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return html.replace(match.group(1), "TOKEN") if match else html, match.group(1) if match else ""


@pytest.mark.parametrize("language", ["de", "nl", "en"])
def test_the_language_switch_is_the_include_with_each_requests_path_and_token(language):
    with translation.override(language):
        for path in ("/booking/", '/technician/day/?x="<b>'):
            cached, token = render(f"{{% language_switch {SWITCH} %}}", path)
            included, _token = render(f'{{% include "_language_switch.html" with {SWITCH} %}}', path)

            assert cached == included
            assert len(token) == 64
            assert f'name="next" value="{path.split("?")[0]}"' in cached


def test_the_language_switch_follows_the_active_language():
    with translation.override("de"):
        german, _token = render(f"{{% language_switch {SWITCH} %}}", "/booking/")
    with translation.override("nl"):
        dutch, _token = render(f"{{% language_switch {SWITCH} %}}", "/booking/")

    assert '<option value="de" selected>' in german and '<option value="nl" selected>' in dutch


def test_the_language_switch_without_a_request_renders_as_the_include_did():
    html = Template(f"{{% load page_chrome %}}{{% language_switch {SWITCH} %}}").render(Context())
    bare = Template(f'{{% include "_language_switch.html" with {SWITCH} %}}').render(Context())

    assert html == bare and "csrfmiddlewaretoken" not in html


def test_the_favicon_links_are_the_include():
    cached, _token = render("{% favicon %}", "/")
    included, _token = render('{% include "_favicon.html" %}', "/")

    assert cached == included
