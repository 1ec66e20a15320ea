"""Secondments, projects and donations through their pages, with the audit trail."""

import datetime as dt
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from pairing.models import Activity, Donation, JointProject, Secondment

from .factories import teacher

pytestmark = pytest.mark.django_db


def test_logging_leaves_an_audit_record_with_the_principal(world, pair, client_for):
    t = teacher(world.weak_a)
    r = client_for(world.principal_a).post(
        reverse("pairing:activity_create", args=[pair.pk]),
        {
            "kind": "observation",
            "held_on": "2016-11-03",
            "place": "",
            "online_link": "https://meeting.example.cn/42",
            "participants": [t.pk],
            "pupils": 0,
            "summary": "网上听课",
            "files": [],
        },
        REMOTE_ADDR="10.9.8.7",
    )
    assert r.status_code == 302, r.context["form"].errors
    a = Activity.objects.get()
    assert list(a.participants.all()) == [t]
    entry = LogEntry.objects.get_for_object(a).get()
    assert entry.actor == world.principal_a and entry.remote_addr == "10.9.8.7"


def test_participants_are_limited_to_the_pair(world, pair, client_for):
    stranger = teacher(world.weak_b)
    r = client_for(world.principal_a).post(
        reverse("pairing:activity_create", args=[pair.pk]),
        {
            "kind": "seminar",
            "held_on": "2016-11-03",
            "place": "会议室",
            "participants": [stranger.pk],
            "pupils": 0,
            "summary": "x",
        },
    )
    assert r.status_code == 200 and "participants" in r.context["form"].errors


def test_place_or_online_link_is_required(world, pair, client_for):
    r = client_for(world.principal_a).post(
        reverse("pairing:activity_create", args=[pair.pk]),
        {"kind": "seminar", "held_on": "2016-11-03", "place": "", "online_link": "", "pupils": 0, "summary": "x"},
    )
    assert r.status_code == 200 and "place" in r.context["form"].errors


def test_secondment_page_with_a_registered_teacher(world, pair, client_for):
    t = teacher(world.weak_a, name="赵副校长")
    r = client_for(world.officer_a).post(
        reverse("pairing:secondment_create", args=[pair.pk]),
        {
            "direction": "to_helping",
            "teacher": t.pk,
            "person_name": "",
            "post": "教务处副主任（挂职）",
            "starts_on": "2017-03-01",
            "ends_on": "2017-06-30",
        },
    )
    assert r.status_code == 302, r.context["form"].errors
    s = Secondment.objects.get()
    assert s.teacher == t and s.service_period is not None and s.to_school == world.strong_a


def test_project_page_with_lead_teachers_from_both_sides(world, pair, client_for):
    a, b = teacher(world.strong_a, name="钱老师"), teacher(world.weak_a, name="孙老师")
    r = client_for(world.principal_strong_a).post(
        reverse("pairing:project_create", args=[pair.pk]),
        {
            "title": "农村小学整本书阅读研究",
            "lead_teachers": [a.pk, b.pk],
            "started_on": "2016-12-01",
            "status": "ongoing",
            "outputs": "",
        },
    )
    assert r.status_code == 302, r.context["form"].errors
    p = JointProject.objects.get()
    assert set(p.lead_teachers.all()) == {a, b} and "钱老师" in p.lead_names


def test_donation_page_and_register_totals(world, pair, client_for):
    c = client_for(world.principal_strong_a)
    for item, value in (("电脑", "30000.00"), ("图书", "1250.50")):
        r = c.post(
            reverse("pairing:donation_create", args=[pair.pk]),
            {
                "recipient": world.weak_a.pk,
                "item": item,
                "category": "it",
                "quantity": 10,
                "value": value,
                "donated_on": "2016-12-01",
            },
        )
        assert r.status_code == 302, r.context["form"].errors
    r = c.get(reverse("pairing:donation_list"))
    assert r.context["totals"]["n"] == 2 and Decimal(r.context["totals"]["value"]) == Decimal("31250.50")
    assert r.context["totals"]["unconfirmed"] == 2
    assert Donation.objects.filter(recipient=world.weak_a).count() == 2
    assert client_for(world.principal_b).get(reverse("pairing:donation_list")).context["totals"]["n"] == 0


def test_donation_value_must_not_be_negative(world, pair, client_for):
    r = client_for(world.officer_a).post(
        reverse("pairing:donation_create", args=[pair.pk]),
        {
            "recipient": world.weak_a.pk,
            "item": "桌椅",
            "category": "it",
            "quantity": 1,
            "value": "-1",
            "donated_on": "2016-12-01",
        },
    )
    assert r.status_code == 200 and "value" in r.context["form"].errors


def test_ended_agreement_offers_no_logging(world, pair, client_for):
    from pairing import services

    services.agreement_end(agreement=pair, ended_on=dt.date(2017, 8, 31), acting_user=world.officer_a)
    r = client_for(world.principal_a).get(reverse("pairing:agreement_detail", args=[pair.pk]))
    assert r.context["can_log"] is False
    r = client_for(world.principal_a).post(
        reverse("pairing:activity_create", args=[pair.pk]),
        {"kind": "seminar", "held_on": "2017-05-03", "place": "x", "pupils": 0, "summary": "x"},
    )
    assert r.status_code == 200 and "only under an active agreement" in str(r.context["form"].non_field_errors())


def test_ending_a_secondment_closes_the_service_period(world, pair, client_for):
    from pairing import services

    t = teacher(world.strong_a)
    s = services.secondment_record(
        agreement=pair, direction="to_helped", teacher=t, starts_on=dt.date(2016, 10, 1), acting_user=world.officer_a
    )
    assert s.service_period.end is None
    url = reverse("pairing:secondment_end", args=[s.pk])
    assert client_for(world.principal_b).post(url, {"ends_on": "2017-01-31"}).status_code == 404
    assert client_for(world.auditor).post(url, {"ends_on": "2017-01-31"}).status_code == 403
    assert client_for(world.principal_a).post(url, {"ends_on": "2017-01-31"}).status_code == 302
    s.refresh_from_db()
    s.service_period.refresh_from_db()
    assert s.ends_on == dt.date(2017, 1, 31) and s.service_period.end == dt.date(2017, 2, 1)


def test_milestone_document_is_checked_stored_and_served_in_scope(world, pair, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from pairing.models import SchoolMilestone

    from .factories import pdf

    url = reverse("pairing:milestone_set", args=[pair.pk, world.weak_a.pk])
    c = client_for(world.principal_a)
    bad = {
        "kind": "charter",
        "status": "adopted",
        "adopted_on": "2017-03-01",
        "document": SimpleUploadedFile("章程.pdf", b"GIF89a"),
    }
    assert "document" in c.post(url, bad).context["form"].errors
    good = {"kind": "charter", "status": "adopted", "adopted_on": "2017-03-01", "document": pdf("章程.pdf")}
    assert c.post(url, good).status_code == 302
    m = SchoolMilestone.objects.get()
    assert m.document_name == "章程.pdf"
    doc = reverse("pairing:milestone_document", args=[m.pk])
    assert client_for(world.principal_strong_a).get(doc).status_code == 200
    assert client_for(world.principal_b).get(doc).status_code == 404


def test_milestone_update_saves_only_its_fields(world, pair):
    """An existing milestone row is saved with ``update_fields`` (and the change is still audited)."""
    from django.db.models.signals import post_save

    from pairing import services
    from pairing.models import SchoolMilestone, SchoolMilestoneKind, SchoolMilestoneStatus

    services.milestone_set(
        school=world.weak_a,
        kind=SchoolMilestoneKind.PLAN,
        status=SchoolMilestoneStatus.DRAFTED,
        drafted_on=dt.date(2016, 10, 1),
        acting_user=world.principal_a,
    )
    seen = []

    def spy(sender, instance, update_fields, **kw):
        seen.append(update_fields)

    post_save.connect(spy, sender=SchoolMilestone)
    try:
        services.milestone_set(
            school=world.weak_a,
            kind=SchoolMilestoneKind.PLAN,
            status=SchoolMilestoneStatus.ADOPTED,
            drafted_on=dt.date(2016, 10, 1),
            adopted_on=dt.date(2016, 12, 1),
            acting_user=world.principal_a,
        )
    finally:
        post_save.disconnect(spy, sender=SchoolMilestone)
    assert seen and seen[0] is not None and "school" not in seen[0] and "status" in seen[0]
    m = SchoolMilestone.objects.get()
    assert m.status == SchoolMilestoneStatus.ADOPTED and m.adopted_on == dt.date(2016, 12, 1)
    assert LogEntry.objects.get_for_object(m).count() == 2
