"""Seed the report's reference data: honour titles, rural honour tiers, the 60-hour rule, targets."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

HONOURS = [
    # name, backbone, famous, order
    ("齐鲁名师", True, True, 10),
    ("杏坛名师", True, True, 20),
    ("特级教师", True, True, 30),
    ("教学能手", True, True, 40),
    ("骨干教师", True, False, 50),
]
TIERS = [(10, "从教乡村10年荣誉"), (20, "从教乡村20年荣誉"), (30, "从教乡村30年荣誉")]


def forward(apps, schema_editor):
    HonourTitle = apps.get_model("teachers", "HonourTitle")
    RuralHonourTier = apps.get_model("teachers", "RuralHonourTier")
    TrainingRule = apps.get_model("teachers", "TrainingRule")
    Target = apps.get_model("teachers", "Target")
    for name, backbone, famous, order in HONOURS:
        HonourTitle.objects.get_or_create(name=name, defaults={"is_backbone": backbone, "is_famous": famous, "order": order})
    for years, name in TIERS:
        RuralHonourTier.objects.get_or_create(years=years, defaults={"name": name})
    if not TrainingRule.objects.exists():
        TrainingRule.objects.create(
            name="贫困村学校园长、校长和教师市级以上培训不少于60学时",
            threshold=Decimal("60"),
            levels=["national", "provincial", "city"],
            period_start=dt.date(2016, 1, 1),
            period_end=dt.date(2018, 12, 31),
            posts=["kindergarten_director", "principal", "teacher"],
            poverty=["provincial"],
            stages=["kindergarten", "primary"],
        )
    if not Target.objects.exists():
        Target.objects.create(
            name="向贫困村学校补充、交流教师915名（2016–2018）",
            metric="into_poor_villages",
            start=dt.date(2016, 1, 1),
            end=dt.date(2018, 12, 31),
            value=915,
        )
        Target.objects.create(
            name="2016年招聘中小学教师3138名",
            metric="hires",
            start=dt.date(2016, 1, 1),
            end=dt.date(2016, 12, 31),
            value=3138,
            stages=["primary", "junior", "nine_year", "senior", "vocational", "special"],
        )


class Migration(migrations.Migration):
    dependencies = [("teachers", "0001_registry_service_training_honours")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
