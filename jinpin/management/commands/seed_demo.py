"""Create (or complete) the demo city. Idempotent: running it again adds nothing twice."""

from django.core.management.base import BaseCommand
from django.db import transaction

from jinpin import registry


class Command(BaseCommand):
    help = "Create a realistic demo Jining (idempotent). --scale N builds larger synthetic data for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            help="0 = the demo city; N > 0 = also build synthetic data N times the demo size "
            "(each app decides what that means, e.g. students).",
        )
        parser.add_argument("--only", default="", help="comma-separated seeder names to run (default: all)")

    def handle(self, *args, scale, only, **options):
        wanted = {w.strip() for w in only.split(",") if w.strip()}
        for name, fn in registry.seeders():
            if wanted and not any(name.endswith(w) for w in wanted):
                continue
            self.stdout.write(f"seeding: {name}")
            with transaction.atomic():
                fn(self.stdout, scale)
        self.stdout.write(self.style.SUCCESS("demo data ready"))
