"""In a real headless Chromium: a principal records a training attendance and sees the teacher leave the shortfall list."""

import datetime as dt
from decimal import Decimal

import pytest

from teachers.models import TrainingAttendance, TrainingLevel

from .factories import CourseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_principal_records_training_and_teacher_leaves_shortfall_list(world, staff, browser_page):
    course = CourseFactory(
        code="JN2017-02",
        name="济宁市乡村教师学科能力提升",
        level=TrainingLevel.CITY,
        hours=Decimal("60"),
        start=dt.date(2017, 8, 14),
        end=dt.date(2017, 8, 23),
    )
    page = browser_page
    page.login("t_principal_a")
    page.goto(page.base + "/teachers/training/compliance/")
    table = page.locator("#shortfall-table")
    assert table.locator("tbody tr").count() == 1
    assert staff.weak_a.name in table.inner_text()
    table.locator(f"a[href$='?teacher={staff.weak_a.pk}']").last.click()
    page.wait_for_selector("#attendance-form")
    page.select_option("select[name=course]", str(course.pk))
    page.fill("input[name=certificate_no]", "JN-2017-0001")
    page.click("#attendance-form button[type=submit]")
    page.wait_for_url(f"**/teachers/{staff.weak_a.pk}/")
    assert "60" in page.locator("#training-hours").inner_text()
    a = TrainingAttendance.objects.get()
    assert (a.teacher_id, a.hours, a.completed_on, a.recorded_by_id) == (
        staff.weak_a.pk,
        Decimal("60"),
        dt.date(2017, 8, 23),
        world.principal_a.pk,
    )
    page.goto(page.base + "/teachers/training/compliance/")
    page.wait_for_selector("#nobody-short")
    assert staff.weak_a.name not in page.locator("#shortfall-table").inner_text()
