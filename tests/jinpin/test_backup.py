"""`make backup` / `make restore`: a small demo city round-trips (row counts and file hashes equal)."""

import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from jinpin import backup
from schools.models import School
from subsidies.models import Award, Period
from tests.subsidies.conftest import run_batch, seed_schemes
from tests.subsidies.factories import household, pupil

pytestmark = [pytest.mark.django_db(transaction=True)]


def row_counts() -> dict[str, int]:
    with connection.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [r[0] for r in cur.fetchall()]
        counts = {}
        for t in tables:
            cur.execute(f'SELECT count(*) FROM "{t}"')
            counts[t] = cur.fetchone()[0]
    return counts


def all_files() -> dict:
    return {name: backup.file_hashes(Path(getattr(settings, key))) for name, key in backup.ROOTS.items()}


def test_backup_and_restore_round_trip(world, tmp_path):
    seed_schemes()
    period = Period.objects.get(code="2016-2017")
    h = household(world.village_a, ("verified", "2016-01-15"))
    for _ in range(5):
        pupil(world.weak_a, household=h)
    run_batch(period)
    assert Award.objects.count() > 0
    private, media = Path(settings.PRIVATE_ROOT), Path(settings.MEDIA_ROOT)
    (private / "jobs").mkdir(parents=True)
    (private / "jobs" / "export.xlsx").write_bytes(b"PK\x03\x04 an export not yet expired")
    (private / "imports" / "2016").mkdir(parents=True)
    (private / "imports" / "2016" / "学生名册.xlsx").write_bytes(bytes(range(256)) * 40)
    (media / "photos").mkdir(parents=True)
    (media / "photos" / "activity.jpg").write_bytes(b"\xff\xd8\xff" + b"x" * 5000)
    counts, files = row_counts(), all_files()
    assert counts["subsidies_award"] > 0 and counts["auditlog_logentry"] > 0

    call_command("backup", dir=str(tmp_path))
    (archive,) = tmp_path.glob("jinpin-*.tar")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"db.dump", "manifest.json", "files/private/jobs/export.xlsx", "files/media/photos/activity.jpg"} <= names

    # Everything changes afterwards: rows removed and added, files lost, changed and added.
    Award.objects.all().delete()
    School.objects.filter(pk=world.strong_b.pk).update(name="改过的名字")
    pupil(world.weak_b)
    (private / "jobs" / "export.xlsx").unlink()
    (private / "imports" / "2016" / "学生名册.xlsx").write_bytes(b"changed")
    (media / "stray.txt").write_text("added after the backup")
    assert row_counts() != counts

    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(archive))
    call_command("restore", str(archive), yes=True)

    assert row_counts() == counts
    assert all_files() == files
    assert School.objects.get(pk=world.strong_b.pk).name == "泗水实验小学"
    # the restored audit log is still append-only (its trigger came back with the dump)
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM auditlog_logentry")


def test_restore_refuses_what_is_not_a_backup(tmp_path, db):
    bogus = tmp_path / "x.tar"
    with tarfile.open(bogus, "w") as tar:
        tar.add(__file__, arcname="notes.py")
    with pytest.raises(CommandError, match="not a jinpin backup"):
        call_command("restore", str(bogus), yes=True)
