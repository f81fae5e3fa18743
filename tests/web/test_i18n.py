"""Both catalogues are complete: every translatable string of the code and templates is in
the zh-Hans catalogue with a translation, the en catalogue has the same entries, and the
compiled .mo files match their .po files."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "tuoke"
LOCALE = PACKAGE / "locale"
LANGUAGES = ("zh_Hans", "en")


def _catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def _key(entry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_has_a_compiled_catalogue_matching_its_source(language):
    po = _catalogue(language)
    mo = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))
    translated = {_key(e): e.msgstr for e in po.translated_entries()}
    compiled = {_key(e): e.msgstr for e in mo if e.msgid}
    assert compiled == translated, "run `make messages` to compile the catalogues"


def test_it_translates_every_string_into_chinese():
    po = _catalogue("zh_Hans")
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or e.fuzzy)]
    assert missing == [], f"untranslated or fuzzy in zh_Hans: {missing[:20]}"


def test_it_keeps_the_english_catalogue_in_step_with_the_chinese_one():
    zh = {_key(e) for e in _catalogue("zh_Hans") if not e.obsolete}
    en = {_key(e) for e in _catalogue("en") if not e.obsolete}
    assert zh == en


def test_it_has_every_string_of_the_code_in_the_catalogues(tmp_path):
    if shutil.which("xgettext") is None:
        if os.environ.get("CI"):
            pytest.fail("GNU gettext (xgettext) is required in CI")
        pytest.skip("GNU gettext is not installed")
    work = tmp_path / "tuoke"
    shutil.copytree(PACKAGE, work, ignore=shutil.ignore_patterns("__pycache__", "locale"))
    (work / "locale").mkdir()
    subprocess.run(
        [
            sys.executable,
            "-P",  # not the copied package's folder on sys.path: its celery.py shadows Celery
            "-m",
            "django",
            "makemessages",
            "--locale",
            "zh_Hans",
            "--no-obsolete",
            "--ignore",
            "static/*",
        ],
        cwd=work,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tuoke.settings"},
    )
    fresh = polib.pofile(str(work / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    known = {_key(e) for e in _catalogue("zh_Hans")}
    missing = sorted(e.msgid for e in fresh if _key(e) not in known)
    assert missing == [], f"run `make messages` and translate: {missing[:20]}"
