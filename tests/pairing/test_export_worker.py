"""The compliance matrix export through a real Celery worker (PostgreSQL server-side cursor)."""

import datetime as dt
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from jinpin.models import Job

from .factories import agreement, log

pytestmark = [pytest.mark.worker]


def test_compliance_export_in_a_real_worker(world, celery_worker_process, client_for):
    a = agreement(world.strong_a, world.weak_a)
    log(a, "joint_research", dt.date(2016, 10, 1))
    r = client_for(world.officer_a).post(reverse("pairing:export", args=["compliance"]))
    assert r.status_code == 302
    job = Job.objects.latest("created_at")
    deadline = time.monotonic() + 60
    while not job.is_finished and time.monotonic() < deadline:
        time.sleep(0.3)
        job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    rows = list(
        load_workbook(Path(settings.PRIVATE_ROOT) / job.result_file, read_only=True)
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    assert len(rows) > 1 and {r[0] for r in rows[1:]} == {a.pk}
    assert job.progress_total == len(rows) - 1
