"""``populated``: the two-county ``world`` with a record of every kind a URL can point at, for the
tests that walk every URL pattern (test_fuzz.py) and every page and export (test_privacy.py)."""

import datetime as dt
from decimal import Decimal

import pytest

ROLES = ("admin", "officer_a", "principal_a", "inspector", "auditor")


@pytest.fixture
def populated(world):
    import importlib

    from django.apps import apps

    from jinpin import exports, jobs
    from jinpin.scope import get_scope
    from pairing import services as pairing_services
    from pairing.models import SchoolMilestoneKind, SchoolMilestoneStatus
    from subsidies.models import (
        Allocation,
        Award,
        BatchRun,
        LoanApplication,
        PayoutBatch,
        Recovery,
        Scheme,
    )
    from subsidies.services import payouts
    from subsidies.services.matching import rematch
    from subsidies.services.workflow import award_transition
    from teachers import services as teacher_services
    from teachers.models import Movement, MovementKind, ServiceKind, ServicePeriod
    from tests.factories import make_user
    from tests.pairing.factories import agreement, log, pdf, png, seed_reference_data
    from tests.subsidies.conftest import run_batch, seed_schemes
    from tests.subsidies.factories import household, pupil
    from tests.teachers.factories import CourseFactory, TeacherFactory

    seed_reference_data()
    importlib.import_module("teachers.migrations.0002_seed_reference_data").forward(apps, None)
    seed_schemes()
    from django.core.cache import cache

    cache.clear()

    w = world
    from subsidies.models import Period

    w.period = Period.objects.get(code="2016-2017")
    # teachers: one in each school, in post since 2005 (rural service counts toward honours)
    w.teachers = {}
    for attr in ("weak_a", "strong_a", "weak_b", "strong_b"):
        t = TeacherFactory(name=f"{attr}老师", phone="13800138000")
        teacher_services.service_period_open(
            teacher=t,
            school=getattr(w, attr),
            start=dt.date(2005, 9, 1),
            full_time=True,
            kind=ServiceKind.RECORD,
            acting_user=w.admin,
        )
        t.refresh_from_db()
        w.teachers[attr] = t
    w.teacher = w.teachers["weak_a"]
    w.service_period = ServicePeriod.objects.filter(teacher=w.teacher).first()
    w.movement = Movement.objects.create(
        teacher=w.teachers["strong_a"],
        kind=MovementKind.choices[0][0],
        from_school=w.strong_a,
        to_school=w.weak_a,
        start=dt.date(2017, 9, 1),
        end=dt.date(2018, 7, 1),
        full_time=True,
        created_by=w.officer_a,
    )
    w.course = CourseFactory()
    teacher_services.attendance_record(
        teacher=w.teacher, course=w.course, hours=Decimal("30"), completed_on=dt.date(2017, 3, 10), acting_user=w.admin
    )
    # twinning: an agreement with a logged session (participants, a photo), a secondment, a donation, a plan
    w.agreement = agreement(w.strong_a, w.weak_a)
    w.activity = log(
        w.agreement,
        "joint_research",
        dt.date(2016, 10, 10),
        user=w.principal_a,
        participants=[w.teachers["strong_a"], w.teacher],
        files=[(png(), "image/png")],
    )
    w.attachment = w.activity.attachments.first()
    w.secondment = pairing_services.secondment_record(
        agreement=w.agreement,
        direction="to_helped",
        starts_on=dt.date(2016, 10, 1),
        ends_on=dt.date(2016, 12, 31),
        person_name="张三",
        acting_user=w.officer_a,
    )
    w.donation = pairing_services.donation_record(
        agreement=w.agreement,
        recipient=w.weak_a,
        item="图书",
        category="books",
        quantity=10,
        value="500.00",
        donated_on=dt.date(2016, 12, 1),
        acting_user=w.principal_strong_a,
    )
    w.milestone = pairing_services.milestone_set(
        school=w.weak_a,
        kind=SchoolMilestoneKind.PLAN,
        status=SchoolMilestoneStatus.ADOPTED,
        adopted_on=dt.date(2017, 5, 1),
        document=pdf(),
        document_type="application/pdf",
        acting_user=w.principal_a,
    )
    # subsidies: pupils of verified poor households in both counties, the batch, approvals, a payout
    w.households = [
        household(w.village_a, ("verified", "2016-01-15")),
        household(w.village_b, ("verified", "2016-01-15")),
    ]
    w.household = w.households[0]
    w.pupils = [pupil(w.weak_a, household=w.households[0]) for _ in range(3)] + [
        pupil(w.weak_b, household=w.households[1]) for _ in range(2)
    ]
    w.pupil = w.pupils[0]
    run_batch(w.period, user=w.admin)
    w.run = BatchRun.objects.order_by("pk").first()
    awards_a = Award.objects.filter(county=w.county_a)
    for scheme in Scheme.objects.filter(pk__in=awards_a.values("scheme")):
        Allocation.objects.create(scheme=scheme, county=w.county_a, school_year=2016, amount=Decimal("100000.00"))
    for user, action in ((w.principal_a, "apply"), (w.principal_a, "review"), (w.officer_a, "approve")):
        award_transition(awards=awards_a, action=action, acting_user=user, scope=get_scope(user))
    w.award = awards_a.order_by("pk").first()
    w.payout = payouts.payout_prepare(
        county=w.county_a,
        period=w.period,
        funding_source=w.award.scheme.funding_source if hasattr(w.award.scheme, "funding_source") else "central",
        acting_user=w.officer_a,
        scope=get_scope(w.officer_a),
    )
    assert PayoutBatch.objects.filter(pk=w.payout.pk).exists()
    w.award = w.payout.lines.order_by("pk").first().award  # an award with a payment to trace
    w.recovery = Recovery.objects.create(award=w.award, amount=Decimal("10.00"), reason="多发", created_by=w.officer_a)
    w.loan = LoanApplication.objects.create(
        student=w.pupils[1],
        county=w.county_a,
        school_year=2016,
        level=LoanApplication._meta.get_field("level").choices[0][0],
        institution="山东大学",
        amount=Decimal("6000.00"),
    )
    rematch(w.period)
    w.scheme = w.award.scheme
    # one finished export for every user (the job pages and the download)
    w.jobs = {}
    for name in ROLES:
        user = getattr(w, name)
        job = jobs.start(
            kind="export",
            params={"exporter": "schools.schools", "params": {}, "language": "zh-hans"},
            title="export",
            user=user,
        )
        jobs.execute(job.pk)
        job.refresh_from_db()
        w.jobs[name] = job
    assert exports  # registered
    w.checker_a = make_user("county_officer", county=w.county_a, username="t_checker_a")
    return w
