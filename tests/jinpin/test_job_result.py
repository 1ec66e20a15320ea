"""Every job page leads to its result: a finished batch links to its run and differences and offers no
download (there is no file) and no note about files expiring; an import links to what it imported."""

import io

import pytest
from django.urls import reverse
from django.utils.translation import override
from openpyxl import Workbook

from jinpin import jobs
from jinpin.models import Job
from schools.importers import SchoolImporter
from subsidies.services import batch
from tests.jinpin.test_jobs_batch import planned  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_a_finished_batch_page_links_to_its_run_without_a_download(planned, client_for, world):  # noqa: F811
    job, run = planned
    batch.work(run.pk, jobs.Progress(job.pk))
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and not job.result_file
    c = client_for(world.admin)
    page = c.get(reverse("job_detail", args=[job.pk])).content.decode()
    run_url = reverse("subsidies:run_detail", args=[run.pk])
    assert f'id="job-result-link" href="{run_url}"' in page and "查看本次计算及其差异" in page
    assert '<p id="job-download" hidden>' in page
    assert '<p class="muted" id="job-expiry" hidden>' in page
    status = c.get(reverse("job_status", args=[job.pk])).json()
    assert status["result_url"] == run_url and status["download_url"] is None
    assert c.get(run_url).status_code == 200


def test_an_import_job_links_to_the_imported_list(world, client_for):
    wb = Workbook()
    ws = wb.active
    with override("zh-hans"):
        ws.append([str(col.header) for col in SchoolImporter.columns])
    ws.append(["0830000301", "汶上结果小学", "汶上县", "", "", "小学", "农村", "是", "", 100])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "schools.xlsx"
    c = client_for(world.officer_a)
    r = c.post(reverse("schools:import", args=["schools"]), {"file": buf})
    assert r.status_code == 302, r.content.decode()[:2000]
    job = Job.objects.filter(created_by=world.officer_a).latest("created_at")
    assert job.status == Job.Status.SUCCEEDED
    page = c.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert f'id="job-result-link" href="{reverse("schools:school_list")}"' in page
