"""Speed at city scale (issue 14) on the teachers pages: search by part of a name (one character
too) or the last digits of the ID, and the training-compliance summary served from the shared
cache until a training write commits."""

import pytest
from django.urls import reverse

from teachers.models import TrainingAttendance

from .factories import CourseFactory

pytestmark = [pytest.mark.django_db]


def test_teacher_search_by_part_of_a_name_or_the_last_digits_of_the_id(world, staff, client_for):
    c = client_for(world.admin)
    url = reverse("teachers:teacher_list")

    def found(q):
        return {t.pk for t in c.get(url, {"q": q}).context["page"]}

    assert found("weak_a老") == {staff.weak_a.pk}  # 3 characters and more: trigrams
    assert found("老") == {staff.weak_a.pk, staff.strong_a.pk, staff.weak_b.pk, staff.strong_b.pk}  # 1: characters
    assert found(staff.strong_b.id_number[-6:]) == {staff.strong_b.pk}  # the last digits of the ID
    assert found("乙") == set()


def test_training_summary_is_cached_until_a_training_write_commits(
    world, staff, rule, client_for, django_assert_num_queries, django_capture_on_commit_callbacks
):
    c = client_for(world.admin)
    url = reverse("teachers:compliance")
    first = c.get(url)
    assert first.status_code == 200
    with django_assert_num_queries(3):  # no aggregate over the teachers' hours: the cached summary
        second = c.get(url)
    assert second.context["totals"] == first.context["totals"]
    with django_capture_on_commit_callbacks(execute=True):
        TrainingAttendance.objects.create(
            teacher=staff.weak_a, course=CourseFactory(), hours=30, completed_on=rule.period_end
        )
    third = c.get(url)  # the stamp moved: computed again
    assert third.context["totals"] != first.context["totals"] or third.context["rows"] != first.context["rows"]
