"""Create (or complete) the demo city. Idempotent: running it again adds nothing twice."""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from jinpin import registry

# What the closing summary counts, read after every seeder has run (labels, so that jinpin imports no app).
SUMMARY = (
    "schools.County",
    "schools.Town",
    "schools.Village",
    "schools.School",
    "teachers.Teacher",
    "pairing.Agreement",
    "pairing.Activity",
    "subsidies.Household",
    "subsidies.Student",
    "subsidies.Award",
    "subsidies.PayoutBatch",
    "inspections.Campaign",
    "inspections.Finding",
)


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
        self.stdout.write(self.style.SUCCESS(self.summary()))

    @staticmethod
    def summary() -> str:
        """What exists once every seeder has finished (a second run prints the same figures)."""
        models = [apps.get_model(label) for label in SUMMARY if apps.is_installed(label.split(".")[0])]
        models.append(get_user_model())
        with translation.override("zh-hans"):
            parts = [f"{m._meta.verbose_name_plural} {m._default_manager.count():,}" for m in models]
            return gettext("Demo data ready. In the database now: %(counts)s") % {"counts": "，".join(parts)}
