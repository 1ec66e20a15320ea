"""A full export disk (issue 16): plain reasons, no temporary or partial file left behind, no deleted
file held open, and the next export works. A small tmpfs (the tests run as root, as CI does) and a
file-size limit (RLIMIT_FSIZE) on the real worker."""

import os
import subprocess
import time
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from jinpin import exports
from jinpin.exports import Column, ExportDiskError, write_xlsx
from jinpin.models import Job
from schools.models import School

from .test_worker import _children, wait_for


def _mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False)


def _open_deleted_under(root: Path, pids) -> list[str]:
    """Files under ``root`` that one of ``pids`` still holds open after they were deleted."""
    found = []
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if target.startswith(str(root)) and target.endswith("(deleted)"):
                found.append(f"{pid}: {target}")
    return found


def _files_under(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "256k")
    yield disk
    _umount(disk)


def test_writer_on_a_full_disk_fails_plainly_and_leaves_nothing(small_disk):
    rows = ((f"3708302008{i:08d}", f"学生{i}", i, "备注" * 10) for i in range(50_000))
    cols = [Column("ID"), Column("姓名"), Column("n", 8, "int"), Column("备注")]
    with pytest.raises(ExportDiskError) as exc:
        write_xlsx(small_disk / "x.xlsx", cols, rows, sheet_title="s")
    assert str(exc.value).startswith("导出磁盘空间不足：剩余 0.2 MB，需要 ")  # "export disk full: N MB free, M needed"
    assert _files_under(small_disk) == [] and list(small_disk.iterdir()) == []
    assert _open_deleted_under(small_disk, [os.getpid()]) == []
    # the disk is usable again: a small export fits
    assert write_xlsx(small_disk / "y.xlsx", cols, [("1", "a", 1, "")], sheet_title="s") == 1


def test_a_large_export_is_refused_before_it_starts_when_the_disk_cannot_hold_it(small_disk):
    with pytest.raises(ExportDiskError) as exc:
        exports.check_space(small_disk, rows=100_000, columns=12)
    assert str(exc.value) == "导出磁盘空间不足：剩余 0.2 MB，需要 183 MB"  # 100,000 x 12 cells x 160 bytes
    with translation.override("en"):
        with pytest.raises(ExportDiskError) as exc:
            exports.check_space(small_disk, rows=100_000, columns=12)
    assert str(exc.value) == "Export disk full: 0.2 MB free, 183 MB needed."
    exports.check_space(small_disk, rows=10, columns=12)  # fits: no error
    exports.check_space(small_disk, rows=None, columns=12)  # unknown size: written, then handled if it fails


@pytest.fixture
def many_schools(world):
    s = world.weak_a
    School.objects.bulk_create(
        School(
            code=f"97{i:08d}",
            name=f"测试学校{i}",
            county=s.county,
            town=s.town,
            village=s.village,
            stage=s.stage,
            location=s.location,
            address="汶上县某某路" * 4,
        )
        for i in range(3000)
    )
    return world


@pytest.fixture
def export_disk(settings, tmp_path):
    """PRIVATE_ROOT on a 128 KB tmpfs, set before the worker starts so that the worker writes there."""
    disk = tmp_path / "exports"
    _mount_tmpfs(disk, "128k")
    settings.PRIVATE_ROOT = disk
    yield disk
    _umount(disk)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_export_on_a_full_disk(export_disk, celery_worker_process, many_schools, client_for):
    c = client_for(many_schools.officer_a)
    workers = [celery_worker_process.pid, *_children(celery_worker_process.pid)]
    # 1. refused before writing: 3,000+ rows cannot fit in 128 KB
    r = c.post(reverse("schools:school_export"), {})
    job = wait_for(r.url.rstrip("/").split("/")[-1])
    assert job.status == Job.Status.FAILED
    # the job speaks the starter's language (Chinese here): "export disk full: N MB free, M MB needed"
    assert job.message.startswith("导出磁盘空间不足：剩余 0.1 MB，需要 ") and job.message.endswith(" MB"), job.message
    assert _files_under(export_disk) == []
    # 2. the disk fills while writing (a file-size limit on the worker: the free space looks ample)
    subprocess.run(["umount", "-l", str(export_disk)], check=True)
    export_disk.mkdir(exist_ok=True)
    for pid in workers:
        subprocess.run(["prlimit", f"--pid={pid}", "--fsize=131072:"], check=True)
    try:
        r = c.post(reverse("schools:school_export"), {})
        job = wait_for(r.url.rstrip("/").split("/")[-1])
        assert job.status == Job.Status.FAILED
        assert job.message.startswith("导出磁盘空间不足：剩余 0.1 MB，需要 "), job.message
        time.sleep(0.5)
        assert _files_under(export_disk) == []  # no temporary file, no partial xlsx
        assert _open_deleted_under(export_disk, workers) == []  # nothing deleted held open by the worker
    finally:
        for pid in workers:
            subprocess.run(["prlimit", f"--pid={pid}", "--fsize=unlimited:"], check=False)
    # 3. the next export works (nothing left filling the disk)
    r = c.post(reverse("schools:school_export"), {"q": "测试学校1"})
    job = wait_for(r.url.rstrip("/").split("/")[-1])
    assert job.status == Job.Status.SUCCEEDED, job.message
