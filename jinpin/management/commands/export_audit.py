"""Write the audit log with its hash chain as JSON Lines, for scripts/verify_audit_export.py."""

import sys

from django.core.management.base import BaseCommand

from jinpin.auditchain import export_lines


class Command(BaseCommand):
    help = "Export the audit log and its chain as JSON Lines (one entry a line, in chain order)."

    def add_arguments(self, parser):
        parser.add_argument("--out", default="-", help="file to write (default: standard output)")

    def handle(self, *args, out="-", **options):
        f = sys.stdout if out == "-" else open(out, "w", encoding="utf-8")
        n = 0
        try:
            for line in export_lines():
                f.write(line)
                n += 1
        finally:
            if f is not sys.stdout:
                f.close()
        self.stderr.write(f"{n} entries exported")
