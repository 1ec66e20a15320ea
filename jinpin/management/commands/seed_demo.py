"""Create (or complete) the demo city. Idempotent: running it again adds nothing twice.

``--jobs 2`` (what ``make run`` uses) builds the demo on two cores: the shared seeders (places, users)
run first; then a forked second process builds the inspection campaign and the staff side (teachers,
then twinning) while this one builds the subsidy year and then the payment audit, each seeder still in
its own transaction. The lanes are about equally long. The audit log is shared (hash-chained at commit
under a lock, so concurrent transactions are fine); otherwise the only data one side reads and the other
writes is 汶上县's poor households: the inspection campaign draws from them as they stand (its own), and
the subsidy year adds some. So the subsidy year waits, before it commits, until the inspection campaign
has committed (``COMMIT_AFTER``): the draw sees exactly what it sees with ``--jobs 1``, where the
registry's order runs the inspections first. The waiting transaction holds nothing the campaign needs: the
two lanes write different rows, and the audit chain's lock is taken at commit (a deferred trigger), after the
wait. The staff side reads the demo schools when it starts, and
the only new schools on this side (the subsidies demo's vocational and special schools) are committed
with the subsidy year, long after. A seeder that is not in these lists (a new app) makes the command run
everything in one process, in the registry's order, as ``--jobs 1`` does.
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
#: the second process's lane, in this order (the inspections first: the subsidy year waits for their commit)
STAFF_LANE = ("inspections.demo.seed_inspections", "teachers.demo.seed_teachers", "pairing.demo.seed_pairing")
#: this process's lane, in registry order
MAIN_LANE = ("subsidies.demo.seed_subsidies", "inspections.demo.seed_payment_audit")
#: a seeder of this lane → the seeder of the second lane that must have committed before it commits (it
#: writes rows that one reads: 汶上县's poor households, the inspection campaign's population)
COMMIT_AFTER = {"subsidies.demo.seed_subsidies": "inspections.demo.seed_inspections"}


def _run(stdout, name, fn, scale, before_commit=None):
    stdout.write(f"seeding: {name}")
    with transaction.atomic():
        fn(stdout, scale)
        if before_commit is not None:
            before_commit()


def _lane(stdout, todo, scale, committed) -> None:
    """The forked process: its own database connection (the parent closed them all before forking)."""
    try:  # an exception here is printed by multiprocessing and makes the exit code 1
        for name, fn in todo:
            _run(stdout, name, fn, scale)
            if name in committed:
                committed[name].set()
    finally:
        stdout.flush()
        connections.close_all()


def _waiter(name, event, child):
    """Before ``name`` commits: wait until the second lane has committed the seeder it must follow."""

    def wait():
        while not event.wait(0.1):
            if not child.is_alive() and not event.is_set():
                raise CommandError(f"{name}: the second lane stopped before the seeder it waits for committed")

    return wait


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
        staff = sorted(((n, f) for n, f in todo if n in STAFF_LANE), key=lambda s: STAFF_LANE.index(s[0]))
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
            ctx = multiprocessing.get_context("fork")
            in_child = {n for n, _f in staff}
            committed = {n: ctx.Event() for n in COMMIT_AFTER.values() if n in in_child}
            child = ctx.Process(target=_lane, args=(self.stdout, staff, scale, committed), name="seed_demo staff lane")
            child.start()
            try:
                for name, fn in todo:
                    if name not in SHARED and name not in STAFF_LANE:
                        after = COMMIT_AFTER.get(name)
                        wait = _waiter(name, committed[after], child) if after in committed else None
                        _run(self.stdout, name, fn, scale, before_commit=wait)
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
