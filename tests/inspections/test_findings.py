"""Findings → rectification: who may take which step, every step recorded and audited, overdue flags."""

import datetime as dt
import json
import uuid

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied

from inspections import services
from inspections.models import ChecklistItem, CheckResult, Finding, FindingCategory
from jinpin.scope import Role, get_scope
from tests.factories import make_user

from .helpers import confirmed_draw

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def failed(sv, client_for):
    d = confirmed_draw(sv)
    item = d.items.first()
    first = ChecklistItem.objects.order_by("order").first()
    body = {
        "client_uuid": str(uuid.uuid4()),
        "item": item.pk,
        "outcome": "visited",
        "results": [{"item": first.pk, "passed": False, "note": "家庭人口与户口簿不符"}],
    }
    client_for(sv.inspector).post("/inspections/api/checks/", json.dumps(body), content_type="application/json")
    sv.result = CheckResult.objects.get(passed=False)
    sv.item = item
    return sv


def record(w, client):
    return client.post(
        f"/inspections/findings/new/?result={w.result.pk}",
        {
            "result": w.result.pk,
            "category": FindingCategory.objects.get(code="file").pk,
            "severity": "medium",
            "description": "档案家庭人口与户口簿不符",
            "responsible_level": "village",
            "responsible_unit": "汶上县李庄村委会",
            "deadline": "2016-11-30",
            "county": w.county_a.pk,
        },
    )


def test_inspector_records_officer_submits_inspector_returns_then_closes(failed, client_for):
    w = failed
    inspector, officer = client_for(w.inspector), client_for(w.officer_a)
    assert record(w, inspector).status_code == 302
    f = Finding.objects.get()
    assert f.source == "item" and f.result == w.result and f.status == "open" and f.village_id == w.item.village_id
    # the officer of another county sees nothing; a principal is refused
    assert client_for(w.officer_b).get(f"/inspections/findings/{f.pk}/").status_code == 404
    assert client_for(w.officer_b).post(f"/inspections/findings/{f.pk}/submit/", {"measures": "x"}).status_code == 404
    # the inspector cannot submit measures, the officer cannot close
    assert inspector.post(f"/inspections/findings/{f.pk}/submit/", {"measures": "x"}).status_code == 403
    officer.post(f"/inspections/findings/{f.pk}/submit/", {"measures": "已重新核对户籍并更正档案"})
    f.refresh_from_db()
    assert f.status == "submitted"
    assert officer.post(f"/inspections/findings/{f.pk}/review/", {"decision": "close"}).status_code == 403
    # returning needs a reason
    inspector.post(f"/inspections/findings/{f.pk}/review/", {"decision": "return", "reason": ""})
    f.refresh_from_db()
    assert f.status == "submitted"
    inspector.post(f"/inspections/findings/{f.pk}/review/", {"decision": "return", "reason": "缺少更正后的档案照片"})
    f.refresh_from_db()
    assert f.status == "returned"
    officer.post(f"/inspections/findings/{f.pk}/submit/", {"measures": "补充档案照片"})
    inspector.post(f"/inspections/findings/{f.pk}/review/", {"decision": "close"})
    f.refresh_from_db()
    assert f.status == "closed" and f.closed_at
    steps = list(f.steps.values_list("action", "actor__username"))
    assert steps == [
        ("record", "t_inspector"),
        ("submit", "t_officer_a"),
        ("return", "t_inspector"),
        ("submit", "t_officer_a"),
        ("close", "t_inspector"),
    ]
    assert f.steps.get(action="return").reason == "缺少更正后的档案照片"
    logged = LogEntry.objects.filter(content_type__model="finding", object_pk=str(f.pk)).count()
    assert logged >= 5
    # closed: nothing more
    assert officer.post(f"/inspections/findings/{f.pk}/submit/", {"measures": "x"}).status_code == 403


def test_service_permissions(failed):
    w = failed
    f = Finding(
        campaign=w.campaign,
        county=w.county_a,
        source="village",
        village=w.village_a,
        category=FindingCategory.objects.first(),
        description="村内未张贴公示",
        responsible_level="village",
        responsible_unit="李庄村",
        deadline=dt.date(2016, 11, 1),
    )
    with pytest.raises(PermissionDenied):
        services.finding_record(finding=f, acting_user=w.officer_a, scope=get_scope(w.officer_a))
    services.finding_record(finding=f, acting_user=w.inspector, scope=get_scope(w.inspector))
    with pytest.raises(PermissionDenied):
        services.finding_submit(finding=f, measures="x", acting_user=w.officer_b, scope=get_scope(w.officer_b))
    with pytest.raises(PermissionDenied):
        services.finding_submit(finding=f, measures="x", acting_user=w.auditor, scope=get_scope(w.auditor))
    services.finding_submit(finding=f, measures="已公示", acting_user=w.officer_a, scope=get_scope(w.officer_a))
    f.refresh_from_db()
    other_inspector = make_user(Role.INSPECTOR, username="t_other_inspector")
    # the other inspector cannot even find it (404 in views); the service refuses the auditor
    with pytest.raises(PermissionDenied):
        services.finding_close(finding=f, acting_user=w.auditor, scope=get_scope(w.auditor))
    assert not get_scope(other_inspector).filter(Finding).filter(pk=f.pk).exists()


def test_overdue_flagged_on_both_home_pages(failed, client_for):
    w = failed
    record(w, client_for(w.inspector))  # deadline 2016-11-30: long past
    for user in (w.inspector, w.officer_a):
        page = client_for(user).get("/home/").content.decode()
        assert 'id="overdue-count"' in page and "overdue-findings" in page, user
    assert 'id="overdue-count"' not in client_for(w.officer_b).get("/home/").content.decode()


def test_a_refused_submit_keeps_the_text_and_the_photo_and_saves_nothing(failed, client_for):
    """The measures and their evidence photo are saved together or not at all; a refused submit comes back
    with the text typed and the chosen photo held for the next submit (issue 13: uploads kept)."""
    import re

    from django.core.files.uploadedfile import SimpleUploadedFile

    from inspections.models import Photo

    from .conftest import jpeg_bytes

    w = failed
    inspector, officer = client_for(w.inspector), client_for(w.officer_a)
    record(w, inspector)
    f = Finding.objects.get()
    url = f"/inspections/findings/{f.pk}/submit/"
    # not an image: the measures are not submitted either, and the text comes back
    bad = SimpleUploadedFile("证明.jpg", b"not an image at all", content_type="image/jpeg")
    r = officer.post(url, {"measures": "已重新核对户籍并更正档案", "evidence": bad})
    assert r.status_code == 200 and "已重新核对户籍并更正档案" in r.content.decode()
    f.refresh_from_db()
    assert f.status == "open" and not Photo.objects.filter(finding=f).exists() and f.steps.count() == 1
    # a real photo but no measures: refused, the photo is held on the server for this form
    good = SimpleUploadedFile("整改照片.jpg", jpeg_bytes(), content_type="image/jpeg")
    r = officer.post(url, {"measures": "", "evidence": good})
    assert r.status_code == 200
    body = r.content.decode()
    assert "整改照片.jpg" in body
    token = re.search(r'name="held-evidence" value="([^"]+)"', body).group(1)
    f.refresh_from_db()
    assert f.status == "open"
    # the measures with the held photo, not chosen again: submitted, the photo saved once
    r = officer.post(url, {"measures": "已重新核对户籍并更正档案", "held-evidence": token})
    assert r.status_code == 302
    f.refresh_from_db()
    assert f.status == "submitted" and Photo.objects.filter(finding=f).count() == 1
