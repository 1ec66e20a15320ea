"""Every list fits a 390-px phone: for each role, a real Chromium opens every page its navigation
offers (the top menu and each section's second row) at 390 px and finds no page-level horizontal
overflow (wide tables scroll inside their wrapper)."""

import datetime as dt

import pytest

from tests.pairing.factories import agreement, log, teacher
from tests.subsidies.factories import household, pupil
from tests.teachers.factories import CourseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 390
ROLES = ["t_admin", "t_officer_a", "t_principal_a", "t_inspector", "t_auditor"]


def _data(world):
    a = agreement(world.strong_a, world.weak_a, signed_on=dt.date(2016, 9, 1))
    long_place = "汶上实验小学三楼东侧多功能报告厅与录播教室联合会场" * 2
    log(a, "joint_research", dt.date(2016, 10, 12), user=world.officer_a, place=long_place)
    teacher(world.strong_a, name="王骨干", backbone=True)
    teacher(world.weak_a, name="李老师")
    CourseFactory(name="国培计划乡村教师信息技术应用能力提升工程远程培训项目")
    hh = household(world.village_a, ("verified", "2016-01-01"))
    pupil(world.weak_a, household=hh, name="张小明")


def _nav_pages(page):
    """Every same-site page the user's navigation leads to (menu entries and their sections' rows)."""
    page.goto(page.base + "/home/")
    tops = page.eval_on_selector_all("nav.menu a", "els => els.map(e => e.href)")
    seen = []
    for href in tops:
        if "/admin/" in href or href in seen:
            continue
        seen.append(href)
        page.goto(href)
        for sub in page.eval_on_selector_all("nav.subnav a", "els => els.map(e => e.href)"):
            if sub not in seen and "/admin/" not in sub:
                seen.append(sub)
    return seen


def test_every_list_fits_a_phone(world, browser_page):
    _data(world)
    page = browser_page
    page.set_viewport_size({"width": WIDTH, "height": 844})
    checked, too_wide = {}, []
    for username in ROLES:
        page.context.clear_cookies()
        page.login(username)
        pages = _nav_pages(page)
        assert len(pages) >= 2, (username, pages)
        for href in pages:
            response = page.goto(href)
            assert response.status == 200, (username, href, response.status)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > WIDTH:
                widest = page.evaluate(
                    """() => { let w = null; for (const e of document.querySelectorAll('main *, header *')) {
                         const r = e.getBoundingClientRect(); if (r.right > innerWidth + 1 && (!w || r.right > w[1]))
                           w = [e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className, r.right]; } return w; }"""
                )
                too_wide.append((username, href.replace(page.base, ""), width, widest))
        checked[username] = len(pages)
    print("lists checked at 390 px per role:", checked, "total", sum(checked.values()))
    assert not too_wide, too_wide
    assert sum(checked.values()) >= 40
