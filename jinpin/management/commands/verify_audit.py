"""Recompute the audit log's hash chain and the sealed payout batches; name the first thing that does not match."""

from django.core.management.base import BaseCommand, CommandError

from jinpin.auditchain import describe, verify


class Command(BaseCommand):
    help = "Recompute the audit chain and every registered integrity check; store and print the result."

    def handle(self, *args, **options):
        result = verify(source="command")
        self.stdout.write(
            f"entries recomputed: {result.checked}; last position {result.head_seq}; last hash {result.head_hash}"
        )
        for p in result.problems:
            self.stderr.write(describe(p))
        if not result.ok:
            raise CommandError(f"{len(result.problems)} problem(s) found.")
        self.stdout.write(self.style.SUCCESS("audit trail intact"))
