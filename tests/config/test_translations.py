"""German and Dutch are complete: no missing, fuzzy or stale entries in the catalogs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import django
import polib
import pytest
from django.apps import apps
from django.conf import settings
from django.utils.translation.trans_real import DjangoTranslation
from django.views.i18n import JavaScriptCatalog

from tests.conftest import need_service

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
# Translations of Django's own strings that Django's catalogs lack; makemessages never writes there.
DJANGO_STRINGS_DIR = Path(settings.BASE_DIR) / "config" / "locale_django"
ROOT = Path(settings.BASE_DIR)
LANGUAGES = ["de", "nl"]
# What `make translations` scans: the project's own apps (whichever are installed) and templates, not tests
# or tooling. A new app is found without touching this test.
SOURCE_DIRS = sorted(
    {
        "config",
        "templates",
        *(
            Path(app.path).relative_to(ROOT).parts[0]
            for app in apps.get_app_configs()
            if Path(app.path).is_relative_to(ROOT) and not Path(app.path).is_relative_to(ROOT / ".venv")
        ),
    }
)


def catalog(language: str, locale_dir: Path = LOCALE_DIR, domain: str = "django") -> polib.POFile:
    return polib.pofile(str(locale_dir / language / "LC_MESSAGES" / f"{domain}.po"))


# Every catalog Doorstep ships: its own strings and its translations of Django's.
SHIPPED = [
    pytest.param(language, locale_dir, domain, id=f"{locale_dir.name}-{language}-{domain}")
    for language in LANGUAGES
    for locale_dir, domain in [
        (LOCALE_DIR, "django"),
        (DJANGO_STRINGS_DIR, "django"),
        (DJANGO_STRINGS_DIR, "djangojs"),
    ]
]


@pytest.mark.parametrize(("language", "locale_dir", "domain"), SHIPPED)
def test_catalog_has_no_untranslated_entries(language, locale_dir, domain):
    missing = [entry.msgid for entry in catalog(language, locale_dir, domain).untranslated_entries()]

    assert missing == []


@pytest.mark.parametrize(("language", "locale_dir", "domain"), SHIPPED)
def test_catalog_has_no_fuzzy_entries(language, locale_dir, domain):
    fuzzy = [entry.msgid for entry in catalog(language, locale_dir, domain).fuzzy_entries()]

    assert fuzzy == []


@pytest.mark.parametrize(("language", "locale_dir", "domain"), SHIPPED)
def test_translations_keep_every_placeholder(language, locale_dir, domain):
    import re

    placeholder = re.compile(r"%\(\w+\)[sdr]|%[sd]")
    broken = [
        entry.msgid
        for entry in catalog(language, locale_dir, domain)
        for msgid, msgstr in [
            (entry.msgid, entry.msgstr),
            *((entry.msgid_plural, form) for form in entry.msgstr_plural.values()),
        ]
        if msgstr and sorted(placeholder.findall(msgid)) != sorted(placeholder.findall(msgstr))
    ]

    assert broken == []


# The parts of Django whose strings the office reads in the admin: its pages, widgets, form errors,
# the user pages, and the JavaScript of the calendar, clock, time zone note and selection boxes.
DJANGO_DIR = Path(django.__file__).parent
DJANGO_PARTS = [
    ("conf/locale", "django"),
    ("contrib/admin/locale", "django"),
    ("contrib/admin/locale", "djangojs"),
    ("contrib/auth/locale", "django"),
    ("contrib/contenttypes/locale", "django"),
]


def served_key(entry: polib.POEntry):
    """How a served catalog keys this entry: context and msgid, and the first plural form for a plural."""
    msgid = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
    return (msgid, 0) if entry.msgid_plural else msgid


def served_catalog(language: str, domain: str):
    """The merged catalog Django serves: its own, the apps', and LOCALE_PATHS on top (no fallback)."""
    if domain == "djangojs":
        # What the admin's jsi18n view (JavaScriptCatalog for django.contrib.admin) builds.
        paths = JavaScriptCatalog().get_paths(["django.contrib.admin"])
        return DjangoTranslation(language, domain="djangojs", localedirs=paths)._catalog
    return DjangoTranslation(language)._catalog


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("part", "domain"), DJANGO_PARTS)
def test_every_django_string_the_office_sees_is_translated(part, domain, language):
    """Django's English source catalog lists each string it may show; ours fill what Django's lack."""
    served = served_catalog(language, domain)
    source = polib.pofile(str(DJANGO_DIR / part / "en" / "LC_MESSAGES" / f"{domain}.po"))

    missing = [entry.msgid for entry in source if not entry.obsolete and not served.get(served_key(entry))]

    assert missing == [], f"add them to {DJANGO_STRINGS_DIR.relative_to(ROOT)}/{language}/LC_MESSAGES/{domain}.po"


def test_catalogs_contain_every_string_in_the_source(tmp_path):
    """makemessages on a copy of the source must find nothing the committed catalogs lack."""
    need_service(shutil.which("xgettext") is not None, "GNU gettext (xgettext) is not installed")
    copy = tmp_path / "src"
    for name in SOURCE_DIRS:
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    env = {
        **os.environ,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DOORSTEP_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--no-location",
            "-v0",
            *(f"--locale={lang}" for lang in LANGUAGES),
        ],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

    for language in LANGUAGES:
        for domain in ("django", "djangojs"):
            # `make translations` must never rewrite or mark obsolete the translations of Django's strings.
            po_file = Path(language) / "LC_MESSAGES" / f"{domain}.po"
            assert (copy / "config" / DJANGO_STRINGS_DIR.name / po_file).read_bytes() == (
                DJANGO_STRINGS_DIR / po_file
            ).read_bytes()
        fresh = {entry.msgid for entry in catalog(language, copy / "config" / "locale") if not entry.obsolete}
        committed = {entry.msgid for entry in catalog(language) if not entry.obsolete}
        assert fresh - committed == set(), f"run `make translations` and translate the new {language} strings"


# Installed libraries with strings of their own (admin sections, column names, lock-out and code messages):
# whatever one of their catalogs translates can reach the office, which must read it in its own language.
# Where a library lacks Dutch, Django falls back to LANGUAGE_CODE's catalog: German on a Dutch page.
LIBRARY_CATALOGS = {
    app.label: sorted(Path(app.path, "locale").glob("*/LC_MESSAGES/django.po"))
    for app in apps.get_app_configs()
    if "site-packages" in Path(app.path).parts and not Path(app.path).is_relative_to(DJANGO_DIR)
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("app_label", sorted(label for label, files in LIBRARY_CATALOGS.items() if files))
def test_every_string_a_library_translates_is_served_in_our_languages(app_label, language):
    served = served_catalog(language, "django")

    strings = {
        served_key(entry)
        for po_file in LIBRARY_CATALOGS[app_label]
        for entry in polib.pofile(str(po_file))
        if not entry.obsolete
    }
    missing = sorted(str(string) for string in strings if string and not served.get(string))

    assert missing == [], f"add them to {DJANGO_STRINGS_DIR.relative_to(ROOT)}/{language}/LC_MESSAGES/django.po"
