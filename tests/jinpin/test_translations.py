"""The Chinese catalogue is complete: every entry translated, none fuzzy, and every msgid the code uses is in it.

The second test runs Django's own ``makemessages`` (GNU gettext's xgettext and msgmerge) over a copy of the
source tree, so it sees exactly what a translator would be asked for; the real catalogue is not touched.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib

BASE = Path(__file__).resolve().parents[2]
CATALOGUE = Path("locale", "zh_Hans", "LC_MESSAGES", "django.po")
NOT_SOURCE = shutil.ignore_patterns(".venv", ".git", "var", "__pycache__", "tests", "benchmarks", "node_modules")


def _problems(po: polib.POFile) -> list[str]:
    return [
        f"{'fuzzy' if 'fuzzy' in e.flags else 'untranslated'}: {e.msgctxt + ' | ' if e.msgctxt else ''}{e.msgid!r} "
        f"({', '.join(f'{f}:{n}' for f, n in e.occurrences[:2])})"
        for e in po
        if not e.obsolete and ("fuzzy" in e.flags or not e.translated())
    ]


def test_every_entry_is_translated_and_none_is_fuzzy():
    po = polib.pofile(str(BASE / CATALOGUE))
    assert len(po) > 1000
    assert _problems(po) == []


def test_every_msgid_in_the_code_is_in_the_catalogue(tmp_path):
    assert shutil.which("xgettext") and shutil.which("msgmerge"), "GNU gettext is needed: apt-get install gettext"
    copy = tmp_path / "src"
    shutil.copytree(BASE, copy, ignore=NOT_SOURCE, symlinks=True)
    before = polib.pofile(str(copy / CATALOGUE))
    run = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    after = polib.pofile(str(copy / CATALOGUE))
    assert len(after) >= 1000 and len(after) >= len(before) - 50  # it read the code (and dropped only a few)
    assert _problems(after) == []
    # the Jinja2 rows templates were read too: each of their strings is in the catalogue, translated
    jinja = {m for p in (copy / "templates").rglob("*.jinja") for m in re.findall(r'_\("([^"]+)"\)', p.read_text())}
    assert jinja and jinja <= {e.msgid for e in after if e.translated()}
