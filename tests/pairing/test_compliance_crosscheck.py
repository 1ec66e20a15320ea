"""The compliance SQL against a plain Python evaluation of the same rules, on generated data.

Seeded random agreements (one-to-one and one-to-many, running, ended, a draft), activities of every
kind on random days (holidays included), secondments each way, projects and plan/charter documents.
Every cell (agreement × minimum × period), its count and its state, and the evidence a cell lists,
must be what the rules written out in Python below give.
"""

import datetime as dt
import random

import pytest

from pairing import compliance
from pairing.models import (
    Activity,
    ActivityKind,
    Agreement,
    AgreementForm,
    AgreementStatus,
    Direction,
    Evidence,
    Interval,
    RequiredMinimum,
    SchoolMilestoneKind,
    SchoolYear,
    Semester,
)
from pairing.models.calendar import Calendar
from tests.factories import rural_school

from .factories import AgreementFactory, JointProjectFactory, SchoolMilestoneFactory, SecondmentFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2018, 3, 15)  # the 2017–2018 spring semester runs: cells of every state
START = dt.date(2016, 9, 1)


def _day(rnd, lo=START, hi=dt.date(2018, 3, 14)):
    return lo + dt.timedelta(days=rnd.randrange((hi - lo).days + 1))


@pytest.fixture
def generated(world):
    rnd = random.Random(2017)
    county = world.county_a
    helped = [rural_school(county=county, code=f"08301{i:05d}", name=f"被帮扶学校{i}") for i in range(20)]
    helping = [world.strong_a, world.weak_a]
    agreements, k = [], 0
    for i in range(10):
        form = AgreementForm.ONE_TO_ONE if i % 3 else AgreementForm.ONE_TO_MANY
        n_helped = 1 if form == AgreementForm.ONE_TO_ONE else 2
        schools, k = helped[k : k + n_helped], k + n_helped
        signed = _day(rnd, START, dt.date(2017, 6, 1))
        status = AgreementStatus.ACTIVE
        ended_on = None
        if i == 7:
            status, ended_on = AgreementStatus.ENDED, dt.date(2017, 5, 1)
        if i == 8:
            status = AgreementStatus.DRAFT
        agreements.append(
            AgreementFactory(
                county=county,
                helping_school=helping[i % 2],
                helped=schools,
                form=form,
                signed_on=signed,
                status=status,
                ended_on=ended_on,
                ends_on=dt.date(2018, 1, 31) if i == 9 else None,
            )
        )
    calendar = Calendar()
    kinds = ActivityKind.values
    activities = []
    for a in agreements:
        for _i in range(rnd.randrange(0, 14)):
            day = _day(rnd)
            year, semester = calendar.year_of(day), calendar.semester_of(day)
            activities.append(
                Activity(
                    agreement=a,
                    kind=rnd.choice(kinds),
                    held_on=day,
                    school_year=year,
                    semester=semester,
                    summary="x",
                    place="会议室",
                )
            )
        for _i in range(rnd.randrange(0, 4)):
            starts = _day(rnd)
            SecondmentFactory(
                agreement=a,
                direction=rnd.choice(Direction.values),
                starts_on=starts,
                ends_on=starts + dt.timedelta(days=rnd.randrange(10, 400)) if rnd.random() < 0.7 else None,
            )
        for _i in range(rnd.randrange(0, 3)):
            started = _day(rnd)
            JointProjectFactory(
                agreement=a,
                started_on=started,
                concluded_on=started + dt.timedelta(days=rnd.randrange(30, 500)) if rnd.random() < 0.5 else None,
            )
        for link in a.links.all():
            for kind in SchoolMilestoneKind.values:
                if rnd.random() < 0.7:
                    SchoolMilestoneFactory(school=link.school, kind=kind, adopted_on=_day(rnd))
    Activity.objects.bulk_create(activities)
    return agreements


def _overlaps(start, end, period):
    return start <= period.ends_on and (end is None or end >= period.starts_on)


def expected_cells(agreements, years, minimums, today):
    """The rules of DOMAIN.md written out plainly: {(agreement, minimum, kind, period): (n, state, evidence ids)}."""
    periods = [("year", y) for y in years] + [("semester", s) for s in Semester.objects.filter(school_year__in=years)]
    out = {}
    for a in agreements:
        if a.status == AgreementStatus.DRAFT:
            continue
        end = a.ended_on or a.ends_on or compliance.FOREVER
        acts = list(a.activities.all())
        secs = list(a.secondments.all())
        projs = list(a.projects.all())
        schools = [link.school for link in a.links.all()]
        for kind, p in periods:
            if not (p.starts_on <= end and p.ends_on >= a.starts_on and p.starts_on <= today):
                continue
            for m in minimums:
                if m.interval != kind:
                    continue
                if m.evidence == Evidence.ACTIVITIES:
                    ev = [
                        x.pk
                        for x in acts
                        if x.kind in m.activity_kinds
                        and (x.semester_id if m.interval == Interval.SEMESTER else x.school_year_id) == p.pk
                    ]
                    n = len(ev)
                elif m.evidence == Evidence.SECONDMENT_EACH_WAY:
                    running = [s for s in secs if _overlaps(s.starts_on, s.ends_on, p)]
                    ev = [s.pk for s in running]
                    n = min(
                        sum(s.direction == Direction.TO_HELPED for s in running),
                        sum(s.direction == Direction.TO_HELPING for s in running),
                    )
                elif m.evidence == Evidence.PROJECTS:
                    ev = [x.pk for x in projs if _overlaps(x.started_on, x.concluded_on, p)]
                    n = len(ev)
                else:
                    docs = [d for s in schools for d in s.milestones.all() if d.adopted_on <= p.ends_on]
                    ev = [d.pk for d in docs]
                    every = all(
                        {d.kind for d in docs if d.school_id == s.pk} == set(SchoolMilestoneKind.values)
                        for s in schools
                    )
                    n = m.required if every else 0
                if n >= m.required:
                    state = compliance.MET
                elif p.ends_on >= today and end >= today:
                    state = compliance.NOT_YET
                else:
                    state = compliance.MISSED
                out[(a.pk, m.pk, kind, p.pk)] = (n, state, sorted(ev))
    return out


def test_the_compliance_sql_agrees_with_the_rules_in_python(generated):
    years = list(SchoolYear.objects.filter(starts_on__gte=dt.date(2016, 9, 1), starts_on__lte=TODAY))
    minimums = list(RequiredMinimum.objects.filter(is_active=True))
    agreements = list(Agreement.objects.filter(pk__in=[a.pk for a in generated]))
    expected = expected_cells(agreements, years, minimums, TODAY)
    cells = compliance.cells(Agreement.objects.filter(pk__in=[a.pk for a in generated]), years=years, today=TODAY)
    got = {(c.agreement_id, c.minimum.pk, c.period_kind, c.period_id): (c.count, c.state) for c in cells}
    assert got == {k: (n, state) for k, (n, state, _ev) in expected.items()}
    # the data reaches every state and every kind of evidence, met and not
    assert {state for _n, state in got.values()} == {compliance.MET, compliance.NOT_YET, compliance.MISSED}
    for m in minimums:
        states = {state for (_a, mid, _k, _p), (_n, state) in got.items() if mid == m.pk}
        assert compliance.MET in states and compliance.MISSED in states, m.code
    # the ranking's totals are the same cells counted
    _rows, total, totals = compliance.ranking(
        Agreement.objects.filter(pk__in=[a.pk for a in generated]), years=years, today=TODAY, limit=100
    )
    assert total == len({a for a, *_rest in got})
    assert totals == {s: sum(1 for _n, st in got.values() if st == s) for s in totals}
    # and each cell lists exactly the evidence the rules count
    for a in agreements:
        if a.status == AgreementStatus.DRAFT:
            continue
        mine = compliance.attach_evidence([c for c in cells if c.agreement_id == a.pk], a)
        for c in mine:
            assert sorted(e.pk for e in c.evidence) == expected[(a.pk, c.minimum.pk, c.period_kind, c.period_id)][2]
