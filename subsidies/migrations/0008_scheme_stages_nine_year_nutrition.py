"""The shipped schemes' stages as DOMAIN.md states them.

* Nutrition meals (营养餐补助) are for compulsory education (primary, junior secondary, nine-year
  schools) and special-education schools: kindergarten children are aided by the preschool scheme,
  senior-high and vocational students by their own grants. The scheme shipped with no stage limit.
* The boarding living allowance (寄宿生生活补助) names nine-year schools too: their grades 1–6 are
  paid at the primary rate and 7–9 at the junior rate (``subsidies.eligibility.RATE_STAGE``).

Only a scheme still as shipped is changed: one whose stages an administrator has edited is left alone.
"""

from django.db import migrations

NUTRITION = ["primary", "junior", "nine_year", "special"]
BOARDING = ["primary", "junior", "nine_year"]


def forward(apps, schema_editor):
    Scheme = apps.get_model("subsidies", "Scheme")
    Scheme.objects.filter(code="nutrition", stages=[]).update(stages=NUTRITION)
    Scheme.objects.filter(code="boarding_allowance", stages=["primary", "junior"]).update(stages=BOARDING)


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0007_match_changed_since_award")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
