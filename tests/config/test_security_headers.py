"""Every response carries the CSP and the Permissions-Policy; HSTS widens to subdomains and preload only when asked."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.csp import build_policy

from tests.config.test_settings import PRODUCTION_ENV, run_python
from tests.factories import AppointmentFactory, FirmFactory, TechnicianFactory, UserFactory, local_dt

ROOT = Path(__file__).resolve().parents[2]
# Rendered into mails and PDFs, never shown as a page: mail clients need inline styles, WeasyPrint its <style>;
# the summary in a customer's data export is a file opened from disk, so it carries its own <style>.
NOT_PAGES = (
    "templates/emails/",
    "templates/cards/",
    "desk/promises/_mail_facts.html",
    "technician/day_sheet",
    "privacy/export_summary.html",
)
# The board's blocks sit at their minute of the day (config.security.allow_style_attributes).
STYLE_ATTRIBUTES_ALLOWED = ("dispatch/templates/dispatch/day.html", "dispatch/board.py")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|javascript:", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.IGNORECASE)
# In Python, HTML is only in strings (format_html): an attribute with its quote.
INLINE_STYLE_IN_PYTHON = re.compile(r"\sstyle=[\"'{]", re.IGNORECASE)


def page_sources():
    for path in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html"), *ROOT.glob("*/**/*.py")]:
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", ".tools/", "var/", "tests/", "node_modules/", "bench/")) or any(
            part in relative for part in NOT_PAGES
        ):
            continue
        yield relative, path.read_text()


def test_no_page_holds_an_inline_script_and_only_the_board_a_style_attribute():
    scripts = [name for name, text in page_sources() if INLINE_SCRIPT.search(text)]
    styles = [
        name
        for name, text in page_sources()
        if (INLINE_STYLE_IN_PYTHON if name.endswith(".py") else INLINE_STYLE).search(text)
        and name not in STYLE_ATTRIBUTES_ALLOWED
    ]

    assert scripts == []
    assert styles == []


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/request/", "/admin/login/", "/technician/login/", "/booking/", "/healthz"])
def test_every_response_carries_the_policy_and_switches_browser_features_off(client, url):
    FirmFactory()
    response = client.get(url)

    assert response["Content-Security-Policy"] == build_policy(settings.SECURE_CSP)
    assert "script-src 'self';" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "payment=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_the_board_allows_style_attributes_and_nothing_more(admin_client_office):
    FirmFactory()
    response = admin_client_office.get(reverse("dispatch:day"))

    policy = response["Content-Security-Policy"]
    assert "style-src-attr 'unsafe-inline'" in policy
    assert "style-src 'self';" in policy and "script-src 'self';" in policy
    assert policy.count("unsafe") == 1


@pytest.mark.django_db
def test_only_the_not_home_page_may_ask_for_the_technicians_location(client):
    user = UserFactory(username="jan")
    technician = TechnicianFactory(user=user)
    window_start = max(local_dt(0, 0), timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5))
    visit = AppointmentFactory(
        technician=technician, window_start=window_start, window_end=window_start + timedelta(hours=4)
    )
    client.force_login(user)

    not_home = client.get(reverse("technician:not_home", args=[visit.pk]))
    visit_page = client.get(reverse("technician:visit", args=[visit.pk]))

    assert not_home.status_code == 200
    assert "geolocation=(self)" in not_home["Permissions-Policy"]
    assert "camera=()" in not_home["Permissions-Policy"]
    assert "geolocation=()" in visit_page["Permissions-Policy"]


HSTS_HEADER = (
    "import django; django.setup(); from django.test import Client; "
    "print(Client().get('/healthz', secure=True, headers={'host': 'doorstep.example.com'})"
    "['Strict-Transport-Security'])"
)


def test_hsts_stays_on_this_host_unless_subdomains_and_preload_are_configured():
    alone = run_python(HSTS_HEADER, PRODUCTION_ENV)
    widened = run_python(
        HSTS_HEADER, {**PRODUCTION_ENV, "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1", "SECURE_HSTS_PRELOAD": "1"}
    )

    assert alone.returncode == 0, alone.stderr
    assert alone.stdout.strip() == "max-age=31536000"
    assert widened.stdout.strip() == "max-age=31536000; includeSubDomains; preload"


def test_deploy_checks_stay_clean_with_the_policies_logs_and_sentry_configured():
    result = run_python(
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')",
        {
            **PRODUCTION_ENV,
            "LOG_FORMAT": "json",
            "SENTRY_DSN": "https://public@sentry.invalid/1",
            "CSP_REPORT_URI": "https://sentry.invalid/api/1/security/?sentry_key=public",
            "REQUEST_FRAME_ORIGINS": "https://www.firm.example",
        },
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
