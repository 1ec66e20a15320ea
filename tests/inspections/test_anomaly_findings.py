"""Hits of the anomaly report turned into findings: prefilled from the hit, linked back to it (the link
survives a recomputation of the report), one finding per hit, audited, scoped."""

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from inspections.models import Finding
from subsidies.models import AnomalyRow, AnomalySnapshot

pytestmark = [pytest.mark.django_db]


def report(w, period):
    snap, _ = AnomalySnapshot.objects.update_or_create(period=period, defaults={"computed_at": timezone.now()})
    snap.items.all().delete()  # as a recomputation does: new rows, new pks
    a = AnomalyRow.objects.create(
        snapshot=snap,
        seq=1,
        county=w.county_a,
        kind="同一学生同一项目重复发放",
        county_name=w.county_a.name,
        school=w.weak_a.name,
        student="张小明",
        id_number="370830200901011234",
        scheme="营养改善计划",
        amount=Decimal("800.00"),
        detail="已发放 2 次",
    )
    b = AnomalyRow.objects.create(
        snapshot=snap,
        seq=2,
        county=w.county_b,
        kind="同一学生同一项目重复发放",
        county_name=w.county_b.name,
        school=w.weak_b.name,
        student="李四",
        scheme="营养改善计划",
        amount=Decimal("800.00"),
    )
    return a, b


@pytest.fixture
def hits(sv, period):
    sv.period = period
    sv.hit_a, sv.hit_b = report(sv, period)
    return sv


def test_an_inspector_turns_a_hit_of_their_county_into_a_prefilled_linked_finding(hits, client_for):
    w = hits
    c = client_for(w.inspector)
    page = c.get(f"/subsidies/anomalies/?period={w.period.pk}").content.decode()
    # the inspector reads the hits of their assigned county only, ID masked, and cannot export
    assert "张小明" in page and "李四" not in page and "370830200901011234" not in page
    assert 'id="export-anomalies"' not in page and "anomaly-to-finding" in page
    assert c.post(f"/subsidies/anomalies/?period={w.period.pk}", {"report": "recompute"}).status_code == 403

    form = c.get(f"/inspections/findings/from-anomaly/{w.hit_a.pk}/")
    assert form.status_code == 200
    initial = form.context["form"].initial
    assert initial["county"] == w.county_a.pk and initial["responsible_unit"] == w.weak_a.name
    assert initial["responsible_level"] == Finding.Level.SCHOOL and "张小明" in initial["description"]
    data = {
        "campaign": w.campaign.pk,
        "category": initial["category"].pk,
        "severity": "medium",
        "description": initial["description"],
        "responsible_level": "school",
        "responsible_unit": w.weak_a.name,
        "deadline": "2016-12-31",
        "county": w.county_a.pk,
    }
    r = c.post(f"/inspections/findings/from-anomaly/{w.hit_a.pk}/", data)
    assert r.status_code == 302, r.content.decode()[:2000]
    f = Finding.objects.get()
    assert f.source == Finding.Source.ANOMALY and f.county == w.county_a and f.campaign == w.campaign
    assert f.anomaly["student"] == "张小明" and f.anomaly["id_number"] != "370830200901011234"
    assert LogEntry.objects.get_for_object(f).exists() and f.steps.count() == 1

    # the report is recomputed (new rows): the hit still shows its finding; no second finding for it
    new_a, _new_b = report(w, w.period)
    page = c.get(f"/subsidies/anomalies/?period={w.period.pk}").content.decode()
    assert f"/inspections/findings/{f.pk}/" in page and "anomaly-to-finding" not in page
    again = c.post(f"/inspections/findings/from-anomaly/{new_a.pk}/", data)
    assert again.status_code == 302 and again["Location"].endswith(f"/inspections/findings/{f.pk}/")
    assert Finding.objects.count() == 1
    detail = c.get(f"/inspections/findings/{f.pk}/").content.decode()
    assert 'id="finding-anomaly"' in detail and "张小明" in detail


def test_scope_and_roles_of_anomaly_findings(hits, client_for):
    w = hits
    # out of the inspector's assignment: 404; a county officer or a principal cannot record one
    assert client_for(w.inspector).get(f"/inspections/findings/from-anomaly/{w.hit_b.pk}/").status_code == 404
    assert client_for(w.officer_a).get(f"/inspections/findings/from-anomaly/{w.hit_a.pk}/").status_code == 403
    assert client_for(w.principal_a).get(f"/inspections/findings/from-anomaly/{w.hit_a.pk}/").status_code == 403
    # an auditor (read-only elsewhere) records one; for county B no running campaign checks it
    c = client_for(w.auditor)
    page = c.get(f"/subsidies/anomalies/?period={w.period.pk}").content.decode()
    assert page.count("anomaly-to-finding") == 2
    r = c.get(f"/inspections/findings/from-anomaly/{w.hit_b.pk}/", follow=True)
    assert "没有" in r.content.decode() or "No running campaign" in r.content.decode()
    form = c.get(f"/inspections/findings/from-anomaly/{w.hit_a.pk}/").context["form"]
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in form.initial.items()}
    data["county"] = w.county_b.pk  # a forged county: refused, nothing saved
    assert c.post(f"/inspections/findings/from-anomaly/{w.hit_a.pk}/", data).status_code == 200
    assert not Finding.objects.exists()
    data["county"] = w.county_a.pk
    assert c.post(f"/inspections/findings/from-anomaly/{w.hit_a.pk}/", data).status_code == 302
    assert Finding.objects.get().created_by == w.auditor
    # the campaign ends: the inspector no longer sees the hits nor records from them
    w.campaign.status = "closed"
    w.campaign.save()
    assert client_for(w.inspector).get(f"/inspections/findings/from-anomaly/{w.hit_a.pk}/").status_code == 404
