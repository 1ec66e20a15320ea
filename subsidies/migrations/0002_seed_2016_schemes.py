"""The 2016 schemes and rates of the Jining report (DOMAIN.md, 精准救助), and the 2016–2017 period.

Waivers and in-kind schemes record the benefit with amount 0 until a county enters its
local fee standard: the report gives no figure for them.
"""

import datetime as dt

from django.db import migrations

COMPULSORY = ["primary", "junior", "nine_year", "special"]

SCHEMES = [
    # code, name, kind, fields, rule, average, lines
    ("preschool", "学前教育资助", "cash",
     dict(stages=["kindergarten"], poor_village_school=True, min_age=3, max_age=5, groups=["hardship", "orphan", "disabled"]),
     "tiers", "1200.00",
     [{"when": "group:poor", "amount": "1500.00", "share": "0.4", "label": "一档"},
      {"when": "any", "amount": "1000.00", "share": "0.6", "label": "二档"}]),
    ("fee_waiver", "免杂费、借读费", "waiver",
     dict(stages=COMPULSORY, poor_village_school=True), "fixed", None,
     [{"when": "any", "amount": "0.00", "label": "当地收费标准"}]),
    ("boarding_fee_waiver", "寄宿生住宿费减免", "waiver",
     dict(stages=COMPULSORY, rural_school=True, boarders_only=True), "fixed", None,
     [{"when": "any", "amount": "0.00", "label": "当地收费标准"}]),
    ("textbooks", "免费教科书", "in_kind",
     dict(stages=["primary", "junior", "nine_year", "senior", "vocational", "special"], groups=["poor", "dibao"]), "fixed", None,
     [{"when": "any", "amount": "0.00", "label": "实物"}]),
    ("boarding_allowance", "寄宿生生活补助", "cash",
     dict(stages=["primary", "junior"], boarders_only=True, groups=["poor"]), "by_stage", None,
     [{"when": "stage:primary", "amount": "1000.00"}, {"when": "stage:junior", "amount": "1250.00"}]),
    ("nutrition", "营养餐补助", "cash",
     dict(groups=["hardship", "orphan"]), "priority", None,
     [{"when": "group:orphan", "amount": "3650.00", "label": "孤儿"},
      {"when": "group:special_ed", "amount": "2000.00", "label": "特教学生"},
      {"when": "group:hardship", "amount": "600.00", "label": "低保及其他困难家庭"}]),
    ("vocational_tuition", "中职免学费", "waiver",
     dict(stages=["vocational"], groups=["poor"]), "fixed", None,
     [{"when": "any", "amount": "0.00", "label": "全额学费"}]),
    ("senior_grant", "普通高中助学金", "cash",
     dict(stages=["senior"], groups=["poor"]), "tiers", "2000.00",
     [{"when": "group:tekun", "amount": "3000.00", "share": "0.25", "label": "一档"},
      {"when": "group:dibao", "amount": "2000.00", "share": "0.25", "label": "二档"},
      {"when": "any", "amount": "1500.00", "share": "0.5", "label": "三档"}]),
    ("student_loan", "生源地信用助学贷款", "loan",
     dict(groups=["poor"]), "cap", None,
     [{"when": "level:undergraduate", "amount": "8000.00", "label": "本专科生"},
      {"when": "level:postgraduate", "amount": "12000.00", "label": "研究生"}]),
]


def forward(apps, schema_editor):
    Scheme = apps.get_model("subsidies", "Scheme")
    RateVersion = apps.get_model("subsidies", "RateVersion")
    Period = apps.get_model("subsidies", "Period")
    for order, (code, name, kind, fields, rule, average, lines) in enumerate(SCHEMES):
        scheme, _ = Scheme.objects.get_or_create(code=code, defaults=dict(name=name, kind=kind, amount_rule=rule, order=order, **fields))
        RateVersion.objects.get_or_create(
            scheme=scheme, effective_from=dt.date(2016, 1, 1),
            defaults=dict(lines=lines, average=average, note="济宁市2016年教育精准扶贫工作报告"),
        )
    Period.objects.get_or_create(
        code="2016-2017",
        defaults=dict(name="2016—2017学年", school_year=2016, starts_on=dt.date(2016, 9, 1), ends_on=dt.date(2017, 8, 31),
                      decisive_date=dt.date(2016, 9, 1)),
    )


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0001_registry_schemes_awards")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
