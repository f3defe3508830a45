"""German and Dutch are complete: no missing, fuzzy or stale entries in the catalogs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

from tests.conftest import need_service

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
ROOT = Path(settings.BASE_DIR)
LANGUAGES = ["de", "nl"]
# What `make translations` scans: the apps and templates, not tests or tooling.
SOURCE_DIRS = ["config", "customers", "appointments", "journal", "notifications", "templates"]


def catalog(language: str, locale_dir: Path = LOCALE_DIR) -> polib.POFile:
    return polib.pofile(str(locale_dir / language / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_no_untranslated_entries(language):
    missing = [entry.msgid for entry in catalog(language).untranslated_entries()]

    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_no_fuzzy_entries(language):
    fuzzy = [entry.msgid for entry in catalog(language).fuzzy_entries()]

    assert fuzzy == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder(language):
    import re

    placeholder = re.compile(r"%\(\w+\)[sd]|%[sd]")
    broken = [
        entry.msgid
        for entry in catalog(language)
        if entry.msgstr and sorted(placeholder.findall(entry.msgid)) != sorted(placeholder.findall(entry.msgstr))
    ]

    assert broken == []


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
        fresh = {entry.msgid for entry in catalog(language, copy / "config" / "locale") if not entry.obsolete}
        committed = {entry.msgid for entry in catalog(language) if not entry.obsolete}
        assert fresh - committed == set(), f"run `make translations` and translate the new {language} strings"
