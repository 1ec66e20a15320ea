"""Create (or complete) the demo city. Idempotent: running it again adds nothing twice.

``--jobs 2`` (what ``make run`` uses) builds the demo on two cores: the shared seeders (places, users)
run first; then the staff side (teachers, then twinning) runs in a forked second process while this
one runs the rest (the inspection campaign, the subsidy year, the payment audit), each seeder still in
its own transaction. Neither side reads what the other writes (both append to the audit log, which is
hash-chained at commit under a lock, so concurrent transactions are fine): the
staff side reads the demo schools when it starts, and the only new schools on the other side (the
subsidies demo's vocational and special schools) are committed with the subsidy year, long after.
A seeder that is not in these lists (a new app) makes the command run everything in one process, in
the registry's order, as ``--jobs 1`` does.
"""

from __future__ import annotations

import multiprocessing
import sys

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction
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

#: seeders that run before the lanes split (everything else reads them)
SHARED = ("schools.demo.seed_places", "schools.demo.seed_users")
#: the second process's lane, in registry order
STAFF_LANE = ("teachers.demo.seed_teachers", "pairing.demo.seed_pairing")
#: this process's lane, in registry order
MAIN_LANE = (
    "inspections.demo.seed_inspections",
    "subsidies.demo.seed_subsidies",
    "inspections.demo.seed_payment_audit",
)


def _run(stdout, name, fn, scale):
    stdout.write(f"seeding: {name}")
    with transaction.atomic():
        fn(stdout, scale)


def _lane(stdout, todo, scale) -> None:
    """The forked process: its own database connection (the parent closed them all before forking)."""
    try:  # an exception here is printed by multiprocessing and makes the exit code 1
        for name, fn in todo:
            _run(stdout, name, fn, scale)
    finally:
        stdout.flush()
        connections.close_all()


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
        parser.add_argument(
            "--jobs",
            type=int,
            default=1,
            help="2 = build the staff side (teachers, twinning) in a second process after the shared seeders",
        )

    def handle(self, *args, scale, only, jobs, **options):
        wanted = {w.strip() for w in only.split(",") if w.strip()}
        todo = [(name, fn) for name, fn in registry.seeders() if not wanted or any(name.endswith(w) for w in wanted)]
        names = {name for name, _ in todo}
        staff = [(n, f) for n, f in todo if n in STAFF_LANE]
        lanes_known = names <= set(SHARED) | set(STAFF_LANE) | set(MAIN_LANE)
        if jobs < 2 or not staff or not lanes_known or "fork" not in multiprocessing.get_all_start_methods():
            for name, fn in todo:
                _run(self.stdout, name, fn, scale)
        else:
            for name, fn in todo:
                if name in SHARED:
                    _run(self.stdout, name, fn, scale)
            self.stdout.flush()
            sys.stdout.flush()
            connections.close_all()  # the child must not share this process's connection
            child = multiprocessing.get_context("fork").Process(
                target=_lane, args=(self.stdout, staff, scale), name="seed_demo staff lane"
            )
            child.start()
            try:
                for name, fn in todo:
                    if name not in SHARED and name not in STAFF_LANE:
                        _run(self.stdout, name, fn, scale)
            finally:
                child.join()
            if child.exitcode != 0:
                raise CommandError(f"the staff lane ({', '.join(n for n, _ in staff)}) failed: see above")
        self.stdout.write(self.style.SUCCESS(self.summary()))

    @staticmethod
    def summary() -> str:
        """What exists once every seeder has finished (a second run prints the same figures)."""
        models = [apps.get_model(label) for label in SUMMARY if apps.is_installed(label.split(".")[0])]
        models.append(get_user_model())
        with translation.override("zh-hans"):
            parts = [f"{m._meta.verbose_name_plural} {m._default_manager.count():,}" for m in models]
            return gettext("Demo data ready. In the database now: %(counts)s") % {"counts": "，".join(parts)}
