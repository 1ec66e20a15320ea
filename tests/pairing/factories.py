"""Helpers to build 结对帮扶 data in tests."""

import datetime as dt
import itertools

from django.core.files.uploadedfile import SimpleUploadedFile

from jinpin import idcard
from pairing import services
from pairing.models import Agreement, AgreementForm, AgreementSchool, AgreementStatus
from teachers.models import HonourTitle, Teacher

_seq = itertools.count(1)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64


def png(name="photo.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf(name="signed.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def teacher(school, name=None, backbone=False):
    n = next(_seq)
    t = Teacher.objects.create(
        id_number=idcard.make("370830", dt.date(1980, 1, 1), 2 * n, "F"),
        name=name or f"老师{n}",
        sex="F",
        birth_date=dt.date(1980, 1, 1),
        school=school,
    )
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
    """An agreement written directly (the services are tested on their own)."""
    helped = helped if isinstance(helped, (list, tuple)) else [helped]
    a = Agreement.objects.create(
        county=helped[0].county,
        helping_school=helping,
        form=form,
        signed_on=signed_on,
        starts_on=signed_on,
        ends_on=ends_on,
        status=status,
        ended_on=ended_on,
    )
    AgreementSchool.objects.bulk_create(
        [AgreementSchool(agreement=a, school=s, active=status == AgreementStatus.ACTIVE) for s in helped]
    )
    return a


def log(agreement, kind, day, user=None, **kw):
    kw.setdefault("place", "会议室")
    kw.setdefault("summary", "记录")
    return services.activity_log(agreement=agreement, kind=kind, held_on=day, acting_user=user, **kw)


__all__ = ["png", "pdf", "teacher", "agreement", "log"]
