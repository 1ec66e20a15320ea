"""``manage.py backup [--dir DIR]``: one dated archive of the database and the private files (``make backup``)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jinpin import backup


class Command(BaseCommand):
    help = "Write jinpin-YYYYmmdd-HHMMSS.tar: pg_dump (custom format) + PRIVATE_ROOT + MEDIA_ROOT."

    def add_arguments(self, parser):
        parser.add_argument("--dir", default="", help="where to write the archive (default: var/backups)")

    def handle(self, *args, dir, **options):
        directory = Path(dir) if dir else Path(settings.DATA_DIR) / "backups"
        try:
            path = backup.backup(directory)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"backup written: {path} ({path.stat().st_size // 1024} KB)"))
