"""The audit log's hash chain: one definition in SQL (the trigger) and Python (verification) that agree,
verification naming the first entry that does not match, an export checkable without jinpin, parallel writers."""

import hashlib
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.urls import reverse

from jinpin import audit, auditchain
from jinpin.celery import app as celery_app
from jinpin.models import AuditChainLink, AuditVerification
from schools.models import County
from tests.dbroles import bypassing_triggers

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_audit_export.py"


def tricky_entries(world):
    """Entries written every way there is, with content that trips naive canonical forms."""
    c = world.county_a
    audit.log(c, actor=world.admin, changes={"name": ["汶上县", '汶上县\u2028\t"引号"\\ \x01']}, note="é 𝄞")
    audit.log(c, actor=None, rows=3, ratio=1.5, nested={"b": [1, 2.50, None, True], "a": {"z": "", "y": "1e3"}})
    audit.log_many(County, [(c.pk, c.name, {"code": ["1", "2"]}), (c.pk, "x", None)], action=1, actor=world.admin)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO auditlog_logentry (object_pk, object_id, object_repr, action, changes, timestamp, "
            "content_type_id, changes_text, remote_addr, remote_port, additional_data, serialized_data, cid, "
            "actor_email) VALUES ('7', 7, 'raw', 2, '{\"k\": 1.50, \"a\": 1e3}', '2016-09-01 08:00:00.123456+08', "
            "%s, 'text', '2001:0db8::0001', 8080, '[1, \"二\"]', NULL, 'cid-1', 'a@b.cn') RETURNING id",
            [audit.LogEntry.objects.order_by("pk").values_list("content_type_id", flat=True).first()],
        )
        return cur.fetchone()[0]


@pytest.mark.django_db
def test_the_trigger_and_the_python_recomputation_agree(world):
    raw_id = tricky_entries(world)
    assert not AuditChainLink.objects.exists()  # chained at commit (here: when verification asks)
    result = auditchain.verify_chain()
    assert result.ok, result.problems
    assert result.checked == audit.LogEntry.objects.count() == AuditChainLink.objects.count()
    assert list(AuditChainLink.objects.values_list("seq", flat=True)) == list(range(1, result.checked + 1))
    # the raw entry's canonical form, written out by hand from the documented rule
    link = AuditChainLink.objects.get(entry_id=raw_id)
    prev = AuditChainLink.objects.get(seq=link.seq - 1).hash if link.seq > 1 else auditchain.GENESIS
    ct = audit.LogEntry.objects.get(pk=raw_id).content_type_id
    canonical = (
        '{"action":"2","actor_email":"a@b.cn","actor_id":null,"additional_data":"[1, \\"二\\"]",'
        '"changes":"{\\"a\\": 1000, \\"k\\": 1.50}","changes_text":"text","cid":"cid-1",'
        f'"content_type_id":"{ct}","id":"{raw_id}","object_id":"7","object_pk":"7","object_repr":"raw",'
        '"remote_addr":"2001:db8::1","remote_port":"8080","serialized_data":null,'
        '"timestamp":"2016-09-01T00:00:00.123456Z"}'
    )
    assert link.hash == hashlib.sha256((prev + "\n" + canonical).encode()).hexdigest()


@pytest.mark.django_db
def test_verification_names_the_first_entry_that_does_not_match(world):
    tricky_entries(world)
    auditchain.link_pending()
    entries = list(audit.LogEntry.objects.order_by("pk").values_list("pk", flat=True))
    second, fourth = entries[1], entries[3]
    seq_of = dict(AuditChainLink.objects.values_list("entry_id", "seq"))
    cases = [
        ("UPDATE auditlog_logentry SET object_repr = 'forged' WHERE id = %s", [second], "changed", second),
        ("UPDATE auditlog_logentry SET changes = '{}' WHERE id = %s", [fourth], "changed", fourth),
        ("DELETE FROM auditlog_logentry WHERE id = %s", [fourth], "deleted", fourth),
        ("DELETE FROM jinpin_auditchain WHERE entry_id = %s", [fourth], "gap", fourth + 1),
        # written while the chain trigger was off
        (
            "INSERT INTO auditlog_logentry (object_pk, object_repr, action, timestamp, content_type_id, changes_text) "
            "SELECT object_pk, object_repr, action, timestamp, content_type_id, changes_text FROM auditlog_logentry "
            "WHERE id = %s",
            [second],
            "unlinked",
            None,
        ),
    ]
    for sql, params, code, named in cases:
        with transaction.atomic():
            with bypassing_triggers(), connection.cursor() as cur:
                cur.execute(sql, params)
            result = auditchain.verify_chain()
            assert not result.ok and result.problems[0]["code"] == code, sql
            if named is not None:
                assert result.first_bad_entry == named and result.first_bad_seq == seq_of[named]
            else:
                assert result.first_bad_entry == result.problems[0]["entry"] > max(entries)
            transaction.set_rollback(True)
    assert auditchain.verify_chain().ok  # every tamper rolled back


@pytest.mark.django_db
def test_an_exported_copy_is_verified_without_jinpin(world, tmp_path):
    tricky_entries(world)
    out = tmp_path / "audit.jsonl"
    call_command("export_audit", out=str(out))
    head = AuditChainLink.objects.order_by("-seq").first()
    run = subprocess.run([sys.executable, "-I", str(SCRIPT), str(out)], capture_output=True, text=True)
    assert run.returncode == 0 and head.hash in run.stdout and f"last position {head.seq}" in run.stdout
    lines = out.read_text(encoding="utf-8").splitlines()
    forged = json.loads(lines[2])
    forged["entry"]["object_repr"] = "someone else"
    lines[2] = json.dumps(forged, ensure_ascii=False)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-I", str(SCRIPT), str(out)], capture_output=True, text=True)
    assert run.returncode != 0 and f"BROKEN at position 3: entry {forged['entry']['id']}" in run.stderr


@pytest.mark.django_db
def test_command_page_job_home_panel_and_nightly_beat(world, client_for, django_capture_on_commit_callbacks):
    tricky_entries(world)
    call_command("verify_audit", stdout=__import__("io").StringIO())
    first = AuditVerification.objects.get()
    assert first.ok and first.source == "command" and first.checked == audit.LogEntry.objects.count()
    auditor = client_for(world.auditor)
    page = auditor.get(reverse("audit_verify"))
    assert page.status_code == 200 and first.head_hash in page.content.decode()
    assert client_for(world.principal_a).get(reverse("audit_verify")).status_code == 403
    assert client_for(world.officer_a).post(reverse("audit_verify")).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        r = auditor.post(reverse("audit_verify"), {"what": "verify"})
    assert r.status_code == 302
    latest = AuditVerification.objects.first()
    assert latest.source == "page" and latest.run_by == world.auditor and latest.ok
    with django_capture_on_commit_callbacks(execute=True):
        r = auditor.post(reverse("audit_verify"), {"what": "export"})
    from jinpin.models import Job

    job = Job.objects.filter(kind="audit.export_chain").get()
    assert job.status == "succeeded" and job.result_name.endswith(".jsonl") and job.result_rows > 0
    home = auditor.get(reverse("home")).content.decode()
    assert "verification-ok" in home and "审计链校验" in home
    assert "verification-ok" not in client_for(world.principal_a).get(reverse("home")).content.decode()
    # nightly
    from django.conf import settings

    nightly = settings.CELERY_BEAT_SCHEDULE["verify-audit-trail"]
    assert nightly["task"] == "jinpin.tasks.verify_audit" and nightly["task"] in celery_app.tasks
    assert celery_app.tasks[nightly["task"]].delay().get() is True
    assert AuditVerification.objects.first().source == "nightly"


@pytest.mark.django_db(transaction=True)
def test_parallel_writers_form_one_verifiable_chain():
    """Four threads, each its own connection, committing small transactions of audit entries at once."""
    county = County.objects.create(code="379999", name="测试县")
    errors = []

    def writer(n):
        try:
            for i in range(15):
                with transaction.atomic():
                    audit.log(county, actor=None, writer=n, i=i)
                    if i % 3 == 0:
                        audit.log_many(County, [(county.pk, f"w{n}", {"i": [i, i + 1]})] * 3, action=1, actor=None)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = auditchain.verify_chain()
    assert result.ok, result.problems
    assert result.checked == audit.LogEntry.objects.count() == AuditChainLink.objects.count() >= 4 * (15 + 5 * 3)
    # commit order, not id order: positions are contiguous whatever the ids
    assert list(AuditChainLink.objects.values_list("seq", flat=True)) == list(range(1, result.checked + 1))
