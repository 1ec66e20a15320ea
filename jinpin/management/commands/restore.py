"""``manage.py restore FILE --yes``: the database and the private files as the archive has them (``make restore``)."""

from django.core.management.base import BaseCommand, CommandError

from jinpin import backup


class Command(BaseCommand):
    help = "Replace the database and PRIVATE_ROOT / MEDIA_ROOT by a `manage.py backup` archive."

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--yes", action="store_true", help="confirm: everything now in the database is replaced")

    def handle(self, *args, archive, yes, **options):
        if not yes:
            raise CommandError("restore replaces the whole database and the private files: add --yes to confirm")
        try:
            manifest = backup.restore(archive)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        files = sum(len(v) for v in manifest["files"].values())
        self.stdout.write(
            self.style.SUCCESS(f"restored {archive}: database of {manifest['created']} and {files} files")
        )
