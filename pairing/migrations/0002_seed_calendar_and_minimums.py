"""Seed the academic calendar (school years 2015–2016 to 2030–2031) and the 2016 report's minimums.

Both are data an administrator edits afterwards; this only fills an empty table.
"""

import datetime as dt

from django.db import migrations

# Autumn semester 1 Sep – 20 Jan, spring semester 20 Feb – 10 Jul; the rest is holiday
# (an activity in a holiday counts for its school year, not for a semester).
FIRST_YEAR, LAST_YEAR = 2015, 2030

MINIMUMS = [
    # code, name (data: the programme's own term), evidence, kinds, period, required, description
    ("joint_research_meeting", "联合教研会议", "activities",
     ["joint_research", "lesson_prep", "seminar", "observation"], "semester", 1,
     "联合教研会议: at least once per semester (joint lesson preparation, seminars, lesson observation count)."),
    ("secondment_each_way", "挂职交流（互派）", "secondment_each_way", [], "year", 1,
     "挂职交流: each side sends at least 1 person per school year."),
    ("joint_research_project", "联合课题研究", "projects", [], "year", 1,
     "联合课题研究: at least 1 per school year."),
    ("backbone_training_visit", "骨干教师送教", "activities", ["backbone_training"], "year", 1,
     "骨干教师: at least 1 training or seminar visit to the helped school per school year."),
    ("resources_shared", "优质课程资源共享", "activities", ["online_classroom"], "year", 1,
     "资源共建共享: good course resources shared at least once per school year."),
    ("plan_and_charter", "发展规划与学校章程", "plan_and_charter", [], "year", 1,
     "发展规划 and 学校章程 adopted by every helped school."),
]


def forward(apps, schema_editor):
    # the model was called Minimum until 0006 renamed it RequiredMinimum
    seed(apps.get_model("pairing", "SchoolYear"), apps.get_model("pairing", "Semester"), apps.get_model("pairing", "Minimum"))


def seed(SchoolYear, Semester, Minimum, interval_field="period"):
    """Fill the calendar and the minimums if empty (tests call it with today's models after a flush:
    RequiredMinimum, whose ``period`` is ``interval`` since 0006)."""
    if not SchoolYear.objects.exists():
        for y in range(FIRST_YEAR, LAST_YEAR + 1):
            year = SchoolYear.objects.create(name=f"{y}–{y + 1}", starts_on=dt.date(y, 9, 1), ends_on=dt.date(y + 1, 8, 31))
            Semester.objects.create(school_year=year, number=1, starts_on=dt.date(y, 9, 1), ends_on=dt.date(y + 1, 1, 20))
            Semester.objects.create(school_year=year, number=2, starts_on=dt.date(y + 1, 2, 20), ends_on=dt.date(y + 1, 7, 10))
    if not Minimum.objects.exists():
        for order, (code, name, evidence, kinds, period, required, description) in enumerate(MINIMUMS):
            Minimum.objects.create(code=code, name=name, evidence=evidence, activity_kinds=kinds,
                                   required=required, description=description, order=order, **{interval_field: period})


class Migration(migrations.Migration):
    dependencies = [("pairing", "0001_agreements_activities_calendar")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
