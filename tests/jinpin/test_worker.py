"""End to end through Redis and a real Celery worker process on PostgreSQL."""

import io
import os
import signal
import time

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from jinpin.models import Job

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.is_finished:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job not finished: {Job.objects.get(pk=job_id).status}")


def test_export_runs_on_a_real_worker(celery_worker_process, world, client_for):
    c = client_for(world.officer_a)
    r = c.post(reverse("schools:school_export"), {"q": "汶上"})
    job_id = r.url.rstrip("/").split("/")[-1]
    job = wait_for(job_id)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.attempts == 1
    r = c.get(reverse("job_download", args=[job_id]))
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content))).worksheets[0]
    assert sorted(row[1] for row in ws.iter_rows(min_row=2, values_only=True)) == ["汶上实验小学", "汶上李庄小学"]


def _children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


def test_a_killed_worker_job_is_redelivered(celery_worker_process, world, client_for):
    """SIGKILL the worker's pool processes mid-export: the task is re-delivered (late ack,
    reject on worker lost) and the job still finishes with a complete file."""
    from schools.models import School

    School.objects.bulk_create(
        [
            School(code=f"7{n:09d}", name=f"合成学校{n}", county=world.county_a, stage="primary", location="rural")
            for n in range(40000)
        ]
    )
    c = client_for(world.officer_a)
    r = c.post(reverse("schools:school_export"), {})
    job_id = r.url.rstrip("/").split("/")[-1]
    deadline = time.monotonic() + 30
    while Job.objects.get(pk=job_id).progress_done < 2000:
        assert time.monotonic() < deadline, "export did not start"
        time.sleep(0.05)
    killed = _children(celery_worker_process.pid)
    assert killed
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    job = wait_for(job_id, timeout=120)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.attempts >= 2
    assert job.result_rows == 40002
    r = c.get(reverse("job_download", args=[job_id]))
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content)), read_only=True).worksheets[0]
    assert sum(1 for _ in ws.iter_rows(min_row=2)) == 40002
