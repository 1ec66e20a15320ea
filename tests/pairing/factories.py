"""Helpers to build 结对帮扶 data in tests."""

import datetime as dt
import importlib

import factory
from django.core.files.uploadedfile import SimpleUploadedFile

from pairing import services
from pairing.models import (
    Agreement,
    AgreementForm,
    AgreementSchool,
    AgreementStatus,
    Direction,
    JointProject,
    RequiredMinimum,
    SchoolMilestone,
    SchoolMilestoneKind,
    SchoolMilestoneStatus,
    SchoolYear,
    Secondment,
    Semester,
)
from teachers.models import HonourTitle
from tests.factories import SchoolFactory
from tests.teachers.factories import TeacherFactory


def seed_reference_data():
    """The calendar and the minimums of the data migration, put back after a transactional test flushed them
    (the migration's own function, given today's models; idempotent)."""
    seed = importlib.import_module("pairing.migrations.0002_seed_calendar_and_minimums").seed
    seed(SchoolYear, Semester, RequiredMinimum, interval_field="interval")


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64


def png(name="photo.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf(name="signed.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


class AgreementFactory(factory.django.DjangoModelFactory):
    """An agreement written directly (the services are tested on their own); ``helped=[schools]`` links them."""

    class Meta:
        model = Agreement
        skip_postgeneration_save = True

    helping_school = factory.SubFactory(SchoolFactory)
    county = factory.LazyAttribute(lambda o: o.helping_school.county)
    form = AgreementForm.ONE_TO_ONE
    signed_on = dt.date(2016, 9, 1)
    starts_on = factory.SelfAttribute("signed_on")
    status = AgreementStatus.ACTIVE

    @factory.post_generation
    def helped(self, create, schools, **kwargs):
        if create and schools:
            AgreementSchool.objects.bulk_create(
                [
                    AgreementSchool(agreement=self, school=s, active=self.status == AgreementStatus.ACTIVE)
                    for s in schools
                ]
            )


class SecondmentFactory(factory.django.DjangoModelFactory):
    """挂职交流 from the helping school to the first helped school (``direction=TO_HELPING`` the other way)."""

    class Meta:
        model = Secondment

    agreement = factory.SubFactory(AgreementFactory)
    direction = Direction.TO_HELPED
    from_school = factory.LazyAttribute(
        lambda o: o.agreement.helping_school if o.direction == Direction.TO_HELPED else o.agreement.links.first().school
    )
    to_school = factory.LazyAttribute(
        lambda o: o.agreement.links.first().school if o.direction == Direction.TO_HELPED else o.agreement.helping_school
    )
    person_name = factory.Sequence(lambda n: f"干部{n}")
    starts_on = dt.date(2016, 10, 1)


class JointProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JointProject

    agreement = factory.SubFactory(AgreementFactory)
    title = factory.Sequence(lambda n: f"联合课题{n}")
    started_on = dt.date(2016, 10, 1)


class SchoolMilestoneFactory(factory.django.DjangoModelFactory):
    """A helped school's plan or charter, adopted."""

    class Meta:
        model = SchoolMilestone

    school = factory.SubFactory(SchoolFactory)
    kind = SchoolMilestoneKind.PLAN
    status = SchoolMilestoneStatus.ADOPTED
    adopted_on = dt.date(2016, 10, 1)


def teacher(school, name=None, backbone=False):
    t = TeacherFactory(school=school, **({"name": name} if name else {}))
    if backbone:
        title, _ = HonourTitle.objects.get_or_create(name="骨干教师", defaults={"is_backbone": True})
        t.honours.add(title)
    return t


def agreement(
    helping,
    helped,
    *,
    form=AgreementForm.ONE_TO_ONE,
    signed_on=dt.date(2016, 9, 1),
    status=AgreementStatus.ACTIVE,
    ended_on=None,
    ends_on=None,
):
    """An agreement between ``helping`` and one or more ``helped`` schools (``AgreementFactory``)."""
    helped = helped if isinstance(helped, (list, tuple)) else [helped]
    return AgreementFactory(
        county=helped[0].county,
        helping_school=helping,
        helped=helped,
        form=form,
        signed_on=signed_on,
        ends_on=ends_on,
        status=status,
        ended_on=ended_on,
    )


def log(agreement, kind, day, user=None, **kw):
    kw.setdefault("place", "会议室")
    kw.setdefault("summary", "记录")
    return services.activity_log(agreement=agreement, kind=kind, held_on=day, acting_user=user, **kw)


__all__ = [
    "AgreementFactory",
    "JointProjectFactory",
    "SchoolMilestoneFactory",
    "SecondmentFactory",
    "png",
    "pdf",
    "teacher",
    "agreement",
    "log",
]
