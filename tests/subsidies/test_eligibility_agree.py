"""One definition of the rules, two renderings: the batch's SQL and Python agree, and a clean batch has no anomaly.

Generated data (seeded, so reproducible) covers every eligibility group, every stage, nine-year grades on
both sides of 6/7 and every household status.
"""

import datetime as dt
import json
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import translation

from jinpin.scope import get_scope
from schools.models import Stage
from subsidies import eligibility
from subsidies.models import Award, AwardStatus, Group
from subsidies.services.anomalies import anomalies, wrong_amounts
from subsidies.services.batch import base_sql, schemes_for
from tests.factories import SchoolFactory, rural_school

from .conftest import run_batch
from .factories import household, pupil

pytestmark = [pytest.mark.django_db]

HISTORIES = [
    (),
    (("identified", "2016-03-01"),),
    (("identified", "2015-10-01"), ("verified", "2016-01-15")),
    (("verified", "2016-01-15"), ("lifted", "2016-06-01")),
    (("verified", "2016-01-15"), ("lifted", "2016-09-02")),
    (("verified", "2015-01-15"), ("lifted", "2015-12-01"), ("returned", "2016-06-01")),
    (("verified", "2015-01-15"), ("removed", "2016-02-01")),
]


@pytest.fixture
def generated(places, period):
    """About 240 pupils over every stage, grade, flag and household status; returns the world."""
    w = places
    rnd = random.Random(2016)
    schools = [
        w.kinder_a,
        w.weak_a,
        w.strong_a,
        w.junior_a,
        w.senior_a,
        w.weak_b,
        rural_school(
            county=w.county_a, village=w.village_a, code="0830000011", name="九年一贯制", stage=Stage.NINE_YEAR
        ),
        SchoolFactory(county=w.county_a, code="0830000012", name="特殊教育学校", stage=Stage.SPECIAL),
        SchoolFactory(county=w.county_a, code="0830000013", name="职业中专", stage=Stage.VOCATIONAL),
        SchoolFactory(county=w.county_a, code="0830000014", name="城区幼儿园", stage=Stage.KINDERGARTEN),
    ]
    households = [
        household(w.village_a, *HISTORIES[i % len(HISTORIES)], is_dibao=i % 3 == 0, is_tekun=i % 4 == 1)
        for i in range(28)
    ]
    for i in range(240):
        school = schools[i % len(schools)]
        kinder = school.stage == Stage.KINDERGARTEN
        born = dt.date(2012, 1, 1) + dt.timedelta(days=rnd.randrange(0, 1500)) if kinder else dt.date(2006, 5, 1)
        pupil(
            school,
            grade=rnd.randint(1, 9) if school.stage == Stage.NINE_YEAR else 3,
            birth_date=born,
            household=rnd.choice(households) if rnd.random() < 0.7 else None,
            is_orphan=rnd.random() < 0.1,
            is_disabled=rnd.random() < 0.1,
            is_special_ed=rnd.random() < 0.1,
            is_boarder=rnd.random() < 0.4,
            is_dibao=rnd.random() < 0.15,
        )
    return w


def _facts_of_every_pupil(period):
    params: list = []
    sql = base_sql(
        school_year=period.school_year, decisive=period.decisive_date, county_id=None, lo=None, hi=None, params=params
    )
    with connection.cursor() as cur:
        cur.execute(f"SELECT student_id, facts FROM ({sql}) b", params)
        return {student_id: json.loads(f) if isinstance(f, str) else f for student_id, f in cur.fetchall()}


def test_the_batch_sql_and_the_python_rules_agree(generated, period):
    run_batch(period)
    facts = _facts_of_every_pupil(period)
    assert len(facts) == 240
    # the data exercises every group and both sides of the nine-year boundary
    groups = {g for f in facts.values() for g in eligibility.groups_of(eligibility.decode(f))}
    assert groups == set(Group.values)
    grades = {f["grade"] for f in facts.values() if f["stage"] == Stage.NINE_YEAR}
    assert {6, 7} <= grades
    expected = {}
    for sr in schemes_for(period):
        for student_id, f in facts.items():
            amount = eligibility.evaluate(sr.scheme, sr.rate, period.decisive_date, f)
            if amount is not None:
                expected[(student_id, sr.scheme.code)] = amount
    made = {(a.student_id, a.scheme.code): a.amount for a in Award.objects.select_related("scheme")}
    assert made == expected
    # every scheme but the preschool age band pays someone here, at more than one amount where it has several
    assert {code for _s, code in made} >= {"nutrition", "boarding_allowance", "textbooks", "senior_grant", "preschool"}
    assert {v for (_s, code), v in made.items() if code == "nutrition"} == {
        Decimal("600.00"),
        Decimal("2000.00"),
        Decimal("3650.00"),
    }
    assert {v for (_s, code), v in made.items() if code == "boarding_allowance"} == {
        Decimal("1000.00"),
        Decimal("1250.00"),
    }


def test_a_clean_batch_has_no_anomaly_and_a_planted_wrong_amount_is_caught(generated, period):
    w = generated
    run_batch(period)
    Award.objects.update(status=AwardStatus.APPROVED)
    auditor = get_scope(w.auditor)
    assert Award.objects.count() > 200
    assert list(anomalies(auditor, period)) == []
    # the same check, re-read in Python from each award's frozen facts, agrees
    rates = {sr.scheme.pk: sr.rate for sr in schemes_for(period)}
    for a in Award.objects.all():
        assert eligibility.amount(rates[a.scheme_id]).value(eligibility.decode(a.facts)) == a.amount

    orphan_meal = Award.objects.filter(scheme__code="nutrition", amount=Decimal("3650.00")).first()
    boarding = Award.objects.filter(scheme__code="boarding_allowance", amount=Decimal("1250.00")).first()
    # planted as a careless path would: returned for review, the amount edited, approved again (the database
    # refuses an approved award's amount changing in place)
    for award, wrong in ((orphan_meal, Decimal("600.00")), (boarding, Decimal("1000.00"))):
        Award.objects.filter(pk=award.pk).update(status=AwardStatus.REVIEWED)
        Award.objects.filter(pk=award.pk).update(amount=wrong)
        Award.objects.filter(pk=award.pk).update(status=AwardStatus.APPROVED)
    with translation.override("en"):
        rows = list(wrong_amounts(auditor, period))
        every = list(anomalies(auditor, period))
    assert rows == every
    assert sorted((r[0], r[3], r[6]) for r in rows) == sorted(
        [
            ("Exclusive categories: a different category paid", orphan_meal.student.name, Decimal("600.00")),
            ("Amount differs from the rate in force", boarding.student.name, Decimal("1000.00")),
        ]
    )
    assert any("expected 3650.00" in r[7] for r in rows) and any("expected 1250.00" in r[7] for r in rows)


def test_awards_made_before_keep_their_facts_readable_by_the_rules(places, period):
    """Migration 0009 splits the old combined ``dibao`` fact into the pupil's and the household's flags."""
    import importlib

    from django.apps import apps
    from django.db import connection as conn

    w = places
    h = household(w.village_a, ("verified", "2016-01-15"), is_dibao=True)
    child = pupil(w.weak_a, household=h)
    run_batch(period)
    award = Award.objects.get(student=child, scheme__code="nutrition")
    old = {k: v for k, v in award.facts.items() if k not in ("pupil_dibao", "household_dibao")} | {"dibao": True}
    Award.objects.filter(pk=award.pk).update(facts=old)

    class Editor:
        connection = conn

    importlib.import_module("subsidies.migrations.0009_award_facts_pupil_and_household_dibao").forward(apps, Editor())
    award.refresh_from_db()
    assert "dibao" not in award.facts
    assert (award.facts["pupil_dibao"], award.facts["household_dibao"]) == (False, True)
    assert Group.DIBAO in eligibility.groups_of(eligibility.decode(award.facts))
    Award.objects.update(status=AwardStatus.APPROVED)
    assert list(anomalies(get_scope(w.auditor), period)) == []
