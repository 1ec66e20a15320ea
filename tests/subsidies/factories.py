"""Factories for 精准救助 records."""

import datetime as dt

import factory

from jinpin import idcard
from subsidies.models import Enrolment, Household, HouseholdStatus, Period, Student
from tests.factories import VillageFactory

Status = HouseholdStatus.Status


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    number = factory.Sequence(lambda n: f"HH{n:08d}")
    head_name = factory.Sequence(lambda n: f"户主{n}")
    village = factory.SubFactory(VillageFactory)
    members = 4


def household(village, *history, **kwargs):
    """A household with a status history: ``household(v, ("verified", "2016-01-01"), ("lifted", "2016-09-01"))``."""
    h = HouseholdFactory(village=village, **kwargs)
    for status, on in history:
        HouseholdStatus.objects.create(household=h, status=status, effective_on=dt.date.fromisoformat(on))
    return h


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Student

    class Params:
        seq = factory.Sequence(lambda n: n)

    name = factory.Sequence(lambda n: f"学生{n}")
    birth_date = dt.date(2008, 5, 1)
    sex = "M"
    id_number = factory.LazyAttribute(lambda o: idcard.make("370830", o.birth_date, 2 * (o.seq % 499) + 1, o.sex))
    bank_account = factory.Sequence(lambda n: f"6228{n:015d}")
    payee_name = factory.Sequence(lambda n: f"监护人{n}")


def pupil(school, *, year=2016, stage=None, grade=3, **kwargs):
    """A student enrolled at ``school`` in ``year``."""
    s = StudentFactory(**kwargs)
    Enrolment.objects.create(student=s, school=school, school_year=year, stage=stage or school.stage, grade=grade)
    return s


def period_2017():
    """The 2017–2018 school year (the seeded reference data has 2016–2017 only)."""
    return Period.objects.create(
        code="2017-2018",
        name="2017—2018学年",
        school_year=2017,
        starts_on=dt.date(2017, 9, 1),
        ends_on=dt.date(2018, 8, 31),
        decisive_date=dt.date(2017, 9, 1),
    )
