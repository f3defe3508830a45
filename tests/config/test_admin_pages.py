"""Every admin page renders, and changelists cost the same number of queries at 10 and 200 rows."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from appointments.models import WorkingPeriod
from journal.services import journal_record
from tests.config.office_scene import office_scene
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    FirmFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def make_customers(count, responsible):
    return CustomerFactory.create_batch(count, responsible=responsible)


def make_appointments(count, responsible):
    service_type = ServiceTypeFactory()
    technicians = TechnicianFactory.create_batch(3, service_types=[service_type])
    customers = make_customers(min(count, 20), responsible)
    return [
        AppointmentFactory(
            service_type=service_type, technician=technicians[index % 3], customer=customers[index % len(customers)]
        )
        for index in range(count)
    ]


def make_journal(count, responsible):
    customers = make_customers(min(count, 20), responsible)
    for index in range(count):
        journal_record(
            customer=customers[index % len(customers)], action="contact.recorded", summary="Anruf", actor=responsible
        )


def make_technicians(count, responsible):
    service_types = ServiceTypeFactory.create_batch(3)
    TechnicianFactory.create_batch(count, service_types=service_types)


def make_service_types(count, responsible):
    ServiceTypeFactory.create_batch(count)


def make_users(count, responsible):
    UserFactory.create_batch(count)


CHANGELISTS = {
    "customers_customer": (make_customers, 12),
    "appointments_appointment": (make_appointments, 14),
    "journal_journalentry": (make_journal, 12),
    "appointments_technician": (make_technicians, 12),
    "appointments_servicetype": (make_service_types, 10),
    "auth_user": (make_users, 11),
}


@pytest.mark.parametrize("rows", [10, 200])
@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelist_queries_do_not_grow_with_rows(
    model, rows, admin_client_office, office_user, django_assert_max_num_queries
):
    make_rows, max_queries = CHANGELISTS[model]
    make_rows(rows, office_user)
    url = reverse(f"admin:{model}_changelist")

    with django_assert_max_num_queries(max_queries):
        response = admin_client_office.get(url)

    assert response.status_code == 200


def test_customer_page_shows_upcoming_visits_and_journal_with_bounded_queries(
    admin_client_office, office_user, django_assert_max_num_queries
):
    appointment = AppointmentFactory(customer=CustomerFactory(responsible=office_user))
    for index in range(60):
        journal_record(customer=appointment.customer, action="contact.recorded", summary=f"Anruf {index}")

    # Bounded, whatever the journal's length; two of them are on every office page (the session's second
    # factor, the mail banner's outbox figures).
    with django_assert_max_num_queries(22):
        response = admin_client_office.get(reverse("admin:customers_customer_change", args=[appointment.customer.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Anruf 59" in page
    assert "Anruf 0<" not in page  # older entries are behind the "whole journal" link
    assert appointment.service_type.localized_name("de") in page


@pytest.mark.parametrize(
    ("model", "make"),
    [
        ("customers_customer", lambda user: CustomerFactory(responsible=user)),
        ("appointments_appointment", lambda user: AppointmentFactory()),
        ("appointments_technician", lambda user: TechnicianFactory()),
        ("appointments_servicetype", lambda user: ServiceTypeFactory()),
        ("journal_journalentry", lambda user: journal_record(customer=CustomerFactory(), action="x", summary="y")),
        ("customers_firm", lambda user: FirmFactory()),
        ("auth_user", lambda user: user),
    ],
)
def test_add_and_change_pages_render(model, make, admin_client_office, office_user):
    obj = make(office_user)

    change = admin_client_office.get(reverse(f"admin:{model}_change", args=[obj.pk]))
    add = admin_client_office.get(reverse(f"admin:{model}_add"))

    assert change.status_code == 200
    # There is one firm per installation: once it exists, adding another is refused.
    assert add.status_code == (403 if model == "customers_firm" else 200)


@pytest.mark.parametrize(
    ("model", "prefill"),
    [
        ("appointments_appointment", {"customer": "abc"}),
        ("appointments_appointment", {"customer": "1,2"}),
        ("appointments_appointment", {"window_start": "tomorrow"}),
        ("appointments_technician", {"user": "abc"}),
        ("journal_journalentry", {"customer": "abc"}),
        ("journal_journalentry", {"occurred_at": "yesterday"}),
        ("customers_customer", {"responsible": "abc"}),
    ],
)
def test_an_add_page_prefilled_with_a_value_its_field_cannot_take_opens_empty(model, prefill, admin_client_office):
    # The pages link to each other with prefills (?customer=…); a mistyped or truncated link must not be a 500.
    response = admin_client_office.get(reverse(f"admin:{model}_add"), prefill)

    assert response.status_code == 200
    for name in prefill:
        assert response.context["adminform"].form.initial.get(name) is None


def test_an_add_page_keeps_a_prefill_its_field_takes(admin_client_office):
    customer = CustomerFactory()

    response = admin_client_office.get(reverse("admin:journal_journalentry_add"), {"customer": customer.pk})

    assert response.context["adminform"].form.initial["customer"] == str(customer.pk)
    assert customer.full_name in response.content.decode()


@pytest.mark.parametrize(
    ("model", "action"),
    [
        ("appointments_appointment", "ask_for_new_time"),
        ("appointments_appointment", "reschedule"),
        ("appointments_missedvisitfollowup", "close_follow_up"),
        ("notifications_outboxmessage", "send_again"),
        ("customers_customer", "invite_to_book"),
        ("appointments_bookinginvitation", "withdraw"),
        ("appointments_technician", "delete_selected"),
    ],
)
@pytest.mark.parametrize("selected", ["abc", "1.5", ""])
def test_an_action_on_a_selection_that_is_not_an_id_changes_nothing_and_says_so(
    model, action, selected, admin_client_office
):
    response = admin_client_office.post(
        reverse(f"admin:{model}_changelist"), {"action": action, "_selected_action": [selected]}, follow=True
    )

    assert response.status_code == 200
    assert [str(message) for message in response.context["messages"]] == [
        "Die Auswahl war nicht lesbar; es wurde nichts geändert. Bitte wählen Sie die Zeilen erneut aus."
    ]


def test_technician_working_hours_are_edited_inline(admin_client_office):
    technician = TechnicianFactory()

    response = admin_client_office.get(reverse("admin:appointments_technician_change", args=[technician.pk]))

    assert response.status_code == 200
    assert WorkingPeriod.objects.filter(technician=technician).count() == 5
    assert "working_periods-0-starts" in response.content.decode()


# Who signs in to the office's admin ---------------------------------------------------------------------


def signed_up(factory_user, password="van-keys-2026"):
    factory_user.set_password(password)
    factory_user.save()
    return factory_user


def test_a_technician_cannot_sign_in_to_the_admin_and_is_pointed_to_the_technician_pages(client):
    user = signed_up(UserFactory(username="tech.jan"))
    TechnicianFactory(user=user)

    response = client.post(
        reverse("admin:login"), {"username": "tech.jan", "password": "van-keys-2026"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "This sign-in is for the office. Technicians sign in on their phone at" in page
    assert "http://testserver/technician/login/" in page


def test_a_technician_signed_in_on_the_technician_pages_does_not_reach_the_admin(client):
    technician = TechnicianFactory()
    client.force_login(technician.user)

    index = client.get(reverse("admin:index"))
    customers = client.get(reverse("admin:customers_customer_changelist"))
    login_page = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE="en")

    assert index.status_code == 302 and index["Location"].startswith(reverse("admin:login"))
    assert customers.status_code == 302 and customers["Location"].startswith(reverse("admin:login"))
    assert login_page.status_code == 200
    assert f'href="{reverse("technician:day")}"' in login_page.content.decode()


def test_the_office_still_signs_in(client):
    # Not a superuser: those give a code as well (tests/accounts/test_two_factor.py).
    office = signed_up(OfficeUserFactory(username="sandra", is_superuser=False), "desk-2026-secret")

    response = client.post(reverse("admin:login"), {"username": "sandra", "password": "desk-2026-secret"})

    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    assert int(client.session["_auth_user_id"]) == office.pk


@pytest.mark.parametrize("hostile", ["https://evil.example/", "//evil.example/admin/", "javascript:alert(1)"])
def test_office_sign_in_with_a_hostile_next_lands_on_the_admin_index(client, hostile):
    signed_up(OfficeUserFactory(username="sandra", is_superuser=False), "desk-2026-secret")

    response = client.post(
        f"{reverse('admin:login')}?next={hostile}",
        {"username": "sandra", "password": "desk-2026-secret", "next": hostile},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


# The office's German and Dutch admin --------------------------------------------------------------------

# English the office met in its German and Dutch admin: Django 6.1's catalogs lack some of its strings,
# some of Django's texts never pass a catalog, and stored reasons were English sentences.
ENGLISH = [
    "Select an option",
    "Run",
    "Filter by",
    "Search",
    "Enter times",
    "timezone",
    "Pagination",
    "appointment is",
    "message was for",
    "has already booked",
    "invitation has expired",
    "visit has started",
    "was booked instead",
    "time has passed",
    "If disabled",
    "password-based",
    "Seen version",
    "Show counts",
    "Hide counts",
    "Save",
    "Delete",
    "History",
    "Today",
    "Now",
    "Yes",
    "Home",
    "Welcome",
    "selected",
    "Action",
]
ENGLISH_RE = re.compile(r"\b(?:" + "|".join(re.escape(fragment) for fragment in ENGLISH) + r")\b")


class ReadableText(HTMLParser):
    """What a person reads on the page or hears from a screen reader: text, labels and button captions."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1
        attributes = dict(attrs)
        for name in ("alt", "title", "aria-label", "placeholder"):
            if attributes.get(name):
                self.parts.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.parts.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(" ".join(data.split()))


def english_on(html: str) -> list[str]:
    parser = ReadableText()
    parser.feed(html)
    return [part for part in parser.parts if ENGLISH_RE.search(part)]


def office_pages(scene):
    """The pages the office works with: lists with filters, search and counts, forms with date and time fields."""
    lists = [
        "customers_customer",
        "appointments_appointment",
        "appointments_technician",
        "appointments_servicetype",
        "appointments_bookinginvitation",
        "appointments_visitattempt",
        "appointments_missedvisitfollowup",
        "journal_journalentry",
        "notifications_outboxmessage",
        "customers_firm",
        "auth_user",
    ]
    pages = [reverse("admin:index")]
    for model in lists:
        url = reverse(f"admin:{model}_changelist")
        pages += [url, f"{url}?q=Terhorst&_facets=1"]
    pages += [
        reverse("admin:appointments_appointment_changelist") + "?status__exact=scheduled&day=week",
        reverse("admin:customers_customer_change", args=[scene.customer.pk]),
        reverse("admin:customers_customer_add"),
        reverse("admin:appointments_appointment_change", args=[scene.appointment.pk]),
        reverse("admin:appointments_appointment_add"),
        reverse("admin:appointments_technician_change", args=[scene.appointment.technician_id]),
        reverse("admin:appointments_technician_add"),
        reverse("admin:appointments_visitattempt_change", args=[scene.attempt.pk]),
        reverse("admin:appointments_missedvisitfollowup_change", args=[scene.attempt.pk]),
        reverse("admin:appointments_missedvisitfollowup_book_new_time", args=[scene.attempt.pk]),
        reverse("admin:appointments_bookinginvitation_change", args=[scene.invitation.pk]),
        reverse("admin:journal_journalentry_add") + f"?customer={scene.customer.pk}",
        reverse("admin:journal_journalentry_change", args=[scene.journal_entry.pk]),
        reverse("admin:notifications_outboxmessage_change", args=[scene.superseded.pk]),
        reverse("admin:auth_user_add"),
        reverse("admin:auth_user_change", args=[scene.office.pk]),
        reverse("admin:auth_user_password_change", args=[scene.office.pk]),
        reverse("admin:password_change"),
    ]
    return pages


def office_action_pages(scene):
    """The forms an action shows before it acts: (list, action, selected ids)."""
    return [
        ("appointments_appointment", "cancel_with_reason", [scene.appointment.pk]),
        ("appointments_appointment", "reschedule", [scene.appointment.pk]),
        ("customers_customer", "invite_to_book", [scene.customer.pk, scene.dutch_customer.pk]),
        ("appointments_missedvisitfollowup", "close_follow_up", [scene.attempt.pk]),
    ]


@pytest.mark.parametrize("language", ["de", "nl"])
def test_the_office_reads_no_english_in_its_german_or_dutch_admin(client, language):
    scene = office_scene()
    client.force_login(scene.office)
    headers = {"accept-language": language}
    found = {}

    for url in office_pages(scene):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert response.headers["Content-Language"] == language
        if english := english_on(response.content.decode()):
            found[url] = english
    for model, action, selected in office_action_pages(scene):
        url = reverse(f"admin:{model}_changelist")
        response = client.post(url, {"action": action, "_selected_action": selected}, headers=headers)
        assert response.status_code == 200, action
        if english := english_on(response.content.decode()):
            found[action] = english

    assert found == {}


def test_every_office_page_writes_the_breadcrumbs_django_61_styles():
    """Django 6.1's admin styles an `<ol class="breadcrumbs">` of items; the older `<div class="breadcrumbs">`
    (still in some libraries' templates) shows as a bare line of links at the page's edge."""
    from tests.conftest import ROOT

    templates = [
        path
        for top in ROOT.iterdir()
        if top.is_dir() and not top.name.startswith(".") and top.name not in {"node_modules", "var", "tests"}
        for path in top.glob("**/*.html")
        if "templates" in path.relative_to(ROOT).parts
    ]
    assert len(templates) > 50, "no templates found: did they move?"

    old_style = [
        str(path.relative_to(ROOT))
        for path in templates
        if 'class="breadcrumbs"' in path.read_text() and '<ol class="breadcrumbs">' not in path.read_text()
    ]

    assert old_style == []
