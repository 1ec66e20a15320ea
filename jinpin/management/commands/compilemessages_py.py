"""Compile every .po file to .mo with polib: no system gettext needed."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile translations (.po -> .mo) in pure Python."

    def handle(self, *args, **options):
        base = Path(settings.BASE_DIR)
        n = 0
        # the project's and the apps' catalogues only: a recursive glob would walk all of .venv (seconds)
        found = [*base.glob("locale/*/LC_MESSAGES/*.po"), *base.glob("*/locale/*/LC_MESSAGES/*.po")]
        for po_path in found:
            if ".venv" in po_path.parts or "site-packages" in po_path.parts:
                continue
            po = polib.pofile(str(po_path))
            po.save_as_mofile(str(po_path.with_suffix(".mo")))
            n += 1
        self.stdout.write(f"compiled {n} catalogues")
