"""The catalogues are complete and current: every entry translated, none fuzzy, and
``makemessages`` would change nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
MAKEMESSAGES = [
    "makemessages",
    *[arg for code in LANGUAGES for arg in ("-l", code)],
    "--no-location",
    "--ignore=.venv",
    "--ignore=var",
    "--ignore=tests",
    "--ignore=bench",
    "--ignore=test-artifacts",
]


def entries(po: polib.POFile) -> set[tuple[str | None, str, str]]:
    return {
        (entry.msgctxt, entry.msgid, entry.msgid_plural)
        for entry in po
        if not entry.obsolete
    }


def catalogue(root: Path, language: str) -> polib.POFile:
    return polib.pofile(str(root / "locale" / language / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(language: str) -> None:
    po = catalogue(ROOT, language)

    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    untranslated += [
        e.msgid for e in po if e.msgid_plural and not all(e.msgstr_plural.values())
    ]

    assert not untranslated, (
        f"{language}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    )
    assert not [entry.msgid for entry in po.fuzzy_entries()], (
        f"{language}: fuzzy entries"
    )


def test_makemessages_would_change_nothing(tmp_path: Path) -> None:
    if shutil.which("xgettext") is None:
        if settings.RELAY_REQUIRE_SERVICES:
            pytest.fail("GNU gettext is not installed (apt-get install gettext)")
        pytest.skip("GNU gettext is not installed")
    copy = tmp_path / "relay"
    copy.mkdir()
    for name in ("cms", "newsletter", "templates", "locale", "manage.py"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, copy / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, copy / name)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "CELERY_"))
    }
    env["DJANGO_SETTINGS_MODULE"] = "cms.settings.test"
    env["RELAY_VAR_DIR"] = str(tmp_path / "var")

    result = subprocess.run(
        [sys.executable, "manage.py", *MAKEMESSAGES],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    changed = {}
    for language in LANGUAGES:
        before, after = (
            entries(catalogue(ROOT, language)),
            entries(catalogue(copy, language)),
        )
        if before != after:
            changed[language] = {
                "new": sorted(after - before)[:5],
                "gone": sorted(before - after)[:5],
            }
    assert not changed, f"run makemessages (see docs/translations.md): {changed}"
