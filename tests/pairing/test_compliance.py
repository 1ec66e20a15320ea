"""Each minimum at its boundaries: met / not yet / missed, with the evidence that counts."""

import datetime as dt

import pytest

from pairing import compliance, services
from pairing.models import (
    Agreement,
    Direction,
    RequiredMinimum,
    SchoolMilestone,
    SchoolMilestoneKind,
    SchoolMilestoneStatus,
    SchoolYear,
    Semester,
)

from .factories import agreement, log, teacher

pytestmark = pytest.mark.django_db

Y2016 = "2016–2017"
SEM1_END = dt.date(2017, 1, 20)  # the last day of the first semester of 2016–2017 (seeded calendar)


def cells_of(a, today, year=Y2016):
    years = list(SchoolYear.objects.filter(name=year))
    return compliance.cells(Agreement.objects.filter(pk=a.pk), years=years, today=today)


def state(cells, code, kind="year", number=None):
    for c in cells:
        if c.minimum.code == code and c.period_kind == kind:
            if number is None or Semester.objects.get(pk=c.period_id).number == number:
                return c.state
    return None


def test_activity_on_the_last_day_of_a_semester_counts_for_it(pair):
    a = log(pair, "joint_research", SEM1_END)
    assert a.semester.number == 1 and a.school_year.name == Y2016
    cells = cells_of(pair, today=dt.date(2017, 3, 1))
    assert state(cells, "joint_research_meeting", "semester", 1) == compliance.MET
    assert state(cells, "joint_research_meeting", "semester", 2) == compliance.NOT_YET


def test_activity_the_day_after_falls_in_the_holiday_and_the_semester_is_missed(pair):
    a = log(pair, "joint_research", SEM1_END + dt.timedelta(days=1))
    assert a.semester is None and a.school_year.name == Y2016
    cells = cells_of(pair, today=dt.date(2017, 3, 1))
    assert state(cells, "joint_research_meeting", "semester", 1) == compliance.MISSED


def test_semester_not_yet_until_its_last_day_then_missed(pair):
    assert state(cells_of(pair, today=SEM1_END), "joint_research_meeting", "semester", 1) == compliance.NOT_YET
    assert (
        state(cells_of(pair, today=SEM1_END + dt.timedelta(days=1)), "joint_research_meeting", "semester", 1)
        == compliance.MISSED
    )


def test_lesson_observation_counts_as_a_joint_teaching_research_meeting_but_a_festival_does_not(pair):
    log(pair, "festival", dt.date(2016, 10, 10))
    assert state(cells_of(pair, dt.date(2017, 3, 1)), "joint_research_meeting", "semester", 1) == compliance.MISSED
    log(pair, "observation", dt.date(2016, 10, 11))
    assert state(cells_of(pair, dt.date(2017, 3, 1)), "joint_research_meeting", "semester", 1) == compliance.MET


def _second(world, pair, direction, start=dt.date(2016, 10, 1)):
    return services.secondment_record(
        agreement=pair,
        direction=direction,
        starts_on=start,
        ends_on=dt.date(2016, 12, 31),
        person_name="张三",
        acting_user=world.officer_a,
    )


def test_secondment_in_one_direction_only_is_not_enough(world, pair):
    _second(world, pair, Direction.TO_HELPED)
    assert state(cells_of(pair, dt.date(2017, 3, 1)), "secondment_each_way") == compliance.NOT_YET
    assert state(cells_of(pair, dt.date(2017, 9, 1)), "secondment_each_way") == compliance.MISSED
    _second(world, pair, Direction.TO_HELPING)
    assert state(cells_of(pair, dt.date(2017, 9, 1)), "secondment_each_way") == compliance.MET


def test_secondment_sets_schools_from_the_direction(world, pair):
    s = _second(world, pair, Direction.TO_HELPING)
    assert (s.from_school, s.to_school) == (world.weak_a, world.strong_a)


def test_secondment_spanning_two_years_counts_in_both(world, pair):
    for d in Direction.values:
        services.secondment_record(
            agreement=pair,
            direction=d,
            starts_on=dt.date(2017, 6, 1),
            ends_on=dt.date(2017, 10, 1),
            person_name="李四",
            acting_user=world.officer_a,
        )
    assert state(cells_of(pair, dt.date(2017, 10, 2)), "secondment_each_way") == compliance.MET
    assert state(cells_of(pair, dt.date(2017, 10, 2), "2017–2018"), "secondment_each_way") == compliance.MET


def test_ended_agreement_is_missed_not_pending_and_has_no_later_periods(world, pair):
    log(pair, "joint_research", dt.date(2016, 10, 1))
    services.agreement_end(agreement=pair, ended_on=dt.date(2017, 3, 15), acting_user=world.officer_a)
    cells = cells_of(pair, today=dt.date(2017, 4, 1))
    # the second semester is still running, but the agreement ended: it can no longer be met
    assert state(cells, "joint_research_meeting", "semester", 2) == compliance.MISSED
    assert state(cells, "joint_research_meeting", "semester", 1) == compliance.MET
    assert state(cells, "joint_research_project") == compliance.MISSED
    assert cells_of(pair, today=dt.date(2018, 4, 1), year="2017–2018") == []


def test_draft_agreement_has_no_cells(world):
    a = agreement(world.strong_a, world.weak_a, status="draft")
    assert cells_of(a, dt.date(2017, 3, 1)) == []


def test_periods_before_the_agreement_starts_are_not_checked(world):
    a = agreement(world.strong_a, world.weak_a, signed_on=dt.date(2017, 2, 25))
    cells = cells_of(a, dt.date(2017, 3, 1))
    assert state(cells, "joint_research_meeting", "semester", 1) is None
    assert state(cells, "joint_research_meeting", "semester", 2) == compliance.NOT_YET


def test_joint_project_counts_for_each_year_it_runs(world, pair):
    services.project_create(
        agreement=pair,
        title="乡村阅读课题",
        started_on=dt.date(2016, 11, 1),
        status="ongoing",
        acting_user=world.principal_a,
    )
    assert state(cells_of(pair, dt.date(2017, 9, 5), "2017–2018"), "joint_research_project") == compliance.MET
    assert state(cells_of(pair, dt.date(2017, 9, 5)), "joint_research_project") == compliance.MET


def test_backbone_training_and_resources_each_per_year(world, pair):
    star = teacher(world.strong_a, backbone=True)
    log(
        pair, "backbone_training", dt.date(2017, 8, 31), participants=[star]
    )  # the year's last day, in the summer holiday
    cells = cells_of(pair, dt.date(2017, 9, 1))
    assert state(cells, "backbone_training_visit") == compliance.MET
    assert state(cells, "resources_shared") == compliance.MISSED
    log(pair, "online_classroom", dt.date(2017, 5, 1), place="", online_link="https://class.example.cn/1")
    assert state(cells_of(pair, dt.date(2017, 9, 1)), "resources_shared") == compliance.MET


def test_plan_and_charter_both_adopted_by_the_year_end(world, pair):
    services.milestone_set(
        school=world.weak_a,
        kind=SchoolMilestoneKind.PLAN,
        status=SchoolMilestoneStatus.ADOPTED,
        adopted_on=dt.date(2017, 5, 1),
        acting_user=world.principal_a,
    )
    assert state(cells_of(pair, dt.date(2017, 9, 1)), "plan_and_charter") == compliance.MISSED
    services.milestone_set(
        school=world.weak_a,
        kind=SchoolMilestoneKind.CHARTER,
        status=SchoolMilestoneStatus.DRAFTED,
        drafted_on=dt.date(2017, 5, 1),
        acting_user=world.principal_a,
    )
    assert state(cells_of(pair, dt.date(2017, 6, 1)), "plan_and_charter") == compliance.NOT_YET
    services.milestone_set(
        school=world.weak_a,
        kind=SchoolMilestoneKind.CHARTER,
        status=SchoolMilestoneStatus.ADOPTED,
        adopted_on=dt.date(2017, 8, 31),
        acting_user=world.principal_a,
    )
    assert state(cells_of(pair, dt.date(2017, 9, 1)), "plan_and_charter") == compliance.MET
    assert SchoolMilestone.objects.filter(school=world.weak_a).count() == 2


def test_minimums_are_data(world, pair):
    log(pair, "joint_research", dt.date(2016, 10, 1))
    assert state(cells_of(pair, dt.date(2017, 3, 1)), "joint_research_meeting", "semester", 1) == compliance.MET
    RequiredMinimum.objects.filter(code="joint_research_meeting").update(required=2)
    assert state(cells_of(pair, dt.date(2017, 3, 1)), "joint_research_meeting", "semester", 1) == compliance.MISSED
    RequiredMinimum.objects.filter(code="joint_research_meeting").update(is_active=False)
    assert state(cells_of(pair, dt.date(2017, 3, 1)), "joint_research_meeting", "semester", 1) is None


def test_calendar_is_data_and_reassignment_is_one_update(world, pair):
    a = log(pair, "seminar", dt.date(2017, 1, 25))
    assert a.semester is None
    Semester.objects.filter(school_year__name=Y2016, number=1).update(ends_on=dt.date(2017, 1, 31))
    services.calendar_reassign()
    a.refresh_from_db()
    assert a.semester.number == 1


def test_ranking_is_one_query_and_orders_by_missed(world, pair, pair_b):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    log(pair, "joint_research", dt.date(2016, 10, 1))
    years = list(SchoolYear.objects.filter(name=Y2016))
    minimums = list(RequiredMinimum.objects.all())
    with CaptureQueriesContext(connection) as q:
        rows, total, totals = compliance.ranking(
            Agreement.objects.all(), years=years, today=dt.date(2017, 9, 1), minimums=minimums
        )
    # one statement, inside a savepoint
    assert [x["sql"].split()[0] for x in q.captured_queries] == ["SAVEPOINT", "WITH", "RELEASE"]
    assert total == 2
    assert [r[0] for r in rows] == [pair_b.pk, pair.pk]
    assert rows[0][1] == rows[1][1] + 1  # one more missed: no meeting in the first semester
    assert totals[compliance.MET] == 1


def test_evidence_lists_the_activities_that_count(world, pair):
    a = log(pair, "lesson_prep", dt.date(2016, 11, 2))
    log(pair, "festival", dt.date(2016, 11, 3))
    cells = compliance.attach_evidence(cells_of(pair, dt.date(2017, 3, 1)), pair)
    c = next(c for c in cells if c.minimum.code == "joint_research_meeting" and c.state == compliance.MET)
    assert [e.pk for e in c.evidence] == [a.pk]


def test_secondment_of_a_registered_teacher_enters_the_service_history(world, pair):
    from teachers.models import ServiceKind, ServicePeriod

    t = teacher(world.strong_a, backbone=True)
    s = services.secondment_record(
        agreement=pair,
        direction=Direction.TO_HELPED,
        teacher=t,
        starts_on=dt.date(2016, 10, 1),
        ends_on=dt.date(2017, 1, 31),
        post="副校长",
        acting_user=world.officer_a,
    )
    period = ServicePeriod.objects.get(pk=s.service_period_id)
    assert (period.school, period.kind, period.full_time) == (world.weak_a, ServiceKind.SECONDMENT, False)
    assert period.start == dt.date(2016, 10, 1) and period.end == dt.date(2017, 2, 1)
    assert s.person_name == t.name
    t.refresh_from_db()
    assert t.school == world.strong_a  # the home post stays


def test_secondment_teacher_must_come_from_the_sending_school(world, pair):
    from django.core.exceptions import ValidationError

    t = teacher(world.weak_a)
    with pytest.raises(ValidationError):
        services.secondment_record(
            agreement=pair,
            direction=Direction.TO_HELPED,
            teacher=t,
            starts_on=dt.date(2016, 10, 1),
            acting_user=world.officer_a,
        )


def test_backbone_visit_needs_a_backbone_teacher_of_the_helping_school(world, pair):
    from django.core.exceptions import ValidationError

    plain = teacher(world.strong_a)
    helped_star = teacher(world.weak_a, backbone=True)
    for people in ([], [plain], [helped_star]):
        with pytest.raises(ValidationError) as e:
            log(pair, "backbone_training", dt.date(2017, 4, 1), participants=people)
        assert "backbone teacher" in " ".join(e.value.messages)
    log(pair, "backbone_training", dt.date(2017, 4, 1), participants=[plain, teacher(world.strong_a, backbone=True)])
