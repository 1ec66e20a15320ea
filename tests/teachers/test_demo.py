"""The demo seeder fills every demo school and is idempotent."""

import io

from schools.models import School
from teachers.demo import seed_teachers
from teachers.models import Movement, ServicePeriod, Teacher, TrainingAttendance


def test_seed_is_idempotent_and_consistent(world):
    out = io.StringIO()
    seed_teachers(out, 0)
    counts = (
        Teacher.objects.count(),
        ServicePeriod.objects.count(),
        Movement.objects.count(),
        TrainingAttendance.objects.count(),
    )
    assert counts[0] > 0 and counts[3] > 0
    assert set(Teacher.objects.values_list("school_id", flat=True).distinct()) >= set(
        School.objects.values_list("pk", flat=True)
    )
    seed_teachers(out, 0)
    assert counts == (
        Teacher.objects.count(),
        ServicePeriod.objects.count(),
        Movement.objects.count(),
        TrainingAttendance.objects.count(),
    )
    # every teacher in service holds exactly one open full-time post, at their current school; the retired none
    assert Teacher.objects.filter(status="retired").exists()
    for t in Teacher.objects.prefetch_related("service_periods"):
        open_ft = [p for p in t.service_periods.all() if p.end is None and p.full_time]
        assert [p.school_id for p in open_ft] == ([t.school_id] if t.status == "active" else [])
