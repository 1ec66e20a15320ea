"""In a real headless Chromium: a county officer filters the schools list, exports it through a
real Celery worker, watches the progress bar finish and downloads the file; then edits a school
and imports the template with a bad row, sees the error, fixes it and imports."""

import pytest
from openpyxl import load_workbook

from schools.models import School

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_officer_filters_exports_and_downloads(celery_worker_process, world, browser_page, tmp_path):
    page = browser_page
    page.login("t_officer_a")
    page.click("text=学校")
    page.wait_for_selector("#school-table")
    assert page.locator("#school-table tbody tr").count() == 2
    assert page.locator("select[name=county] option").count() == 2  # "---" and 汶上县 only
    page.select_option("select[name=is_weak]", "true")
    page.click("#school-filters button[type=submit]")
    page.wait_for_url("**is_weak=true**")
    assert page.locator("#school-table tbody tr").count() == 1
    page.click("#export-button")
    page.wait_for_selector("#job[data-finished=succeeded]", timeout=60_000)
    assert page.locator("#job-percent").inner_text() == "100%"
    with page.expect_download() as dl:
        page.click("#job-download-link")
    path = tmp_path / "export.xlsx"
    dl.value.save_as(path)
    ws = load_workbook(path).worksheets[0]
    assert ws["A1"].value == "学校标识码"
    assert [r[1] for r in ws.iter_rows(min_row=2, values_only=True)] == ["汶上李庄小学"]


def test_officer_edits_and_imports_with_a_bad_row(world, browser_page, tmp_path):
    page = browser_page
    page.login("t_officer_a")
    page.goto(page.base + f"/schools/{world.weak_a.pk}/edit/")
    page.fill("input[name=pupils]", "-5")
    page.click("form.panel button[type=submit]")
    page.wait_for_selector(".field.has-error")  # the answer page (count() alone does not wait for it)
    assert page.locator(".field.has-error").count() == 1
    page.fill("input[name=pupils]", "321")
    page.click("form.panel button[type=submit]")
    page.wait_for_selector("text=已保存学校")
    world.weak_a.refresh_from_db()
    assert world.weak_a.pupils == 321

    page.goto(page.base + "/schools/import/schools/")
    with page.expect_download() as dl:
        page.click("#template-link")
    template = tmp_path / "template.xlsx"
    dl.value.save_as(template)
    wb = load_workbook(template)
    ws = wb.worksheets[0]
    ws.append(["0830000201", "汶上浏览器小学", "汶上县", "", "", "小学", "农村", "是", "", 100])
    ws.append(["0830000202", "汶上浏览器中学", "汶上县", "", "", "大学", "农村", "否", "", 100])
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    page.set_input_files("input[name=file]", str(bad))
    page.click("text=上传并导入")
    page.wait_for_selector("#import-errors")
    text = page.locator("#import-errors").inner_text()
    assert "没有导入任何数据" in text and "3" in text and "学段" in text
    assert not School.objects.filter(code__in=["0830000201", "0830000202"]).exists()
    ws["F3"] = "初中"
    good = tmp_path / "good.xlsx"
    wb.save(good)
    page.set_input_files("input[name=file]", str(good))
    page.click("text=上传并导入")
    page.wait_for_selector("text=已导入 2 行")
    assert School.objects.filter(code__in=["0830000201", "0830000202"]).count() == 2
