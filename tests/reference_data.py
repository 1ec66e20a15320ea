"""The data the migrations seed (scheme and period, calendar and minimums, teachers' reference data,
the checklist, finding categories and city departments). A transactional test's flush empties every
table, so a test that builds the demo city on top of it puts them back first (each seed is idempotent)."""

import importlib

from django.apps import apps


def reseed() -> None:
    for module in (
        "subsidies.migrations.0002_seed_2016_schemes",
        "subsidies.migrations.0008_scheme_stages_nine_year_nutrition",
        "teachers.migrations.0002_seed_reference_data",
        "inspections.migrations.0002_seed_checklist_categories_departments",
    ):
        importlib.import_module(module).forward(apps, None)
    pairing = importlib.import_module("pairing.migrations.0002_seed_calendar_and_minimums")
    pairing.seed(
        apps.get_model("pairing", "SchoolYear"),
        apps.get_model("pairing", "Semester"),
        apps.get_model("pairing", "RequiredMinimum"),
        interval_field="interval",
    )
