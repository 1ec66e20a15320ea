"""The principal's flow in a real browser: log a joint teaching-research meeting with participants
chosen by typing their names (a searchable picker) and a photo; the semester's minimum turns to met."""

import pytest
from django.utils import timezone

from pairing.models import Activity, SchoolYear

from .factories import PNG, agreement, teacher

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_principal_logs_a_meeting_and_the_minimum_is_met(world, browser_page, tmp_path):
    today = timezone.localdate()
    year = SchoolYear.objects.containing(today).first()
    a = agreement(world.strong_a, world.weak_a, signed_on=year.starts_on)
    t1 = teacher(world.strong_a, name="王骨干", backbone=True)
    t2 = teacher(world.weak_a, name="李老师")
    photo = tmp_path / "教研现场.png"
    photo.write_bytes(PNG)
    page = browser_page
    page.login("t_principal_a")
    cell = page.locator(f"#pair-{a.pk} [data-minimum=joint_research_meeting]")
    expected = "not_yet" if year.semesters.filter(starts_on__lte=today, ends_on__gte=today).exists() else None
    if expected:
        assert cell.get_attribute("data-state") == "not_yet"
    page.click(f"#pair-{a.pk} a.button")
    page.select_option("#id_kind", "joint_research")
    page.fill("#id_held_on", today.isoformat())
    page.fill("#id_place", "汶上实验小学三楼会议室")
    # participants: a searchable picker; typing a name finds the pair's teachers on the server
    for name in ("王骨", "李老"):
        page.fill("#id_participants-ts-control", name)
        option = page.locator(".ts-dropdown .option", has_text=name)
        option.first.wait_for()
        option.first.click()
    assert sorted(page.eval_on_selector("#id_participants", "s => [...s.selectedOptions].map(o => o.value)")) == sorted(
        [str(t1.pk), str(t2.pk)]
    )
    page.fill("#id_summary", "两校数学组联合教研：单元整体教学设计。")
    page.set_input_files("#id_files", str(photo))
    page.click("#activity-save")
    page.wait_for_selector("#attachments img")
    assert "王骨干" in page.inner_text("#participants") and "李老师" in page.inner_text("#participants")
    activity = Activity.objects.get(agreement=a)
    assert activity.attachments.get().content_type == "image/png"
    page.goto(page.base + "/home/")
    if expected:
        assert page.locator(f"#pair-{a.pk} [data-minimum=joint_research_meeting]").get_attribute("data-state") == "met"
    page.goto(page.base + f"/pairing/{a.pk}/")
    assert page.locator("#compliance [data-minimum=joint_research_meeting][data-state=met]").count() >= 1
