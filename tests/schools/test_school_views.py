import pytest
from django.urls import reverse

from schools.models import School

pytestmark = pytest.mark.django_db


def test_officer_sees_only_own_county(world, client_for):
    r = client_for(world.officer_a).get(reverse("schools:school_list"))
    assert r.status_code == 200
    names = {s["name"] for s in r.context["page"]}
    assert names == {"汶上实验小学", "汶上李庄小学"}


def test_other_county_school_is_404(world, client_for):
    c = client_for(world.officer_b)
    assert c.get(reverse("schools:school_detail", args=[world.weak_a.pk])).status_code == 404
    assert c.get(reverse("schools:school_edit", args=[world.weak_a.pk])).status_code == 404
    assert (
        client_for(world.principal_b).get(reverse("schools:school_detail", args=[world.weak_a.pk])).status_code == 404
    )


def test_auditor_reads_but_cannot_write(world, client_for):
    c = client_for(world.auditor)
    assert c.get(reverse("schools:school_detail", args=[world.weak_a.pk])).status_code == 200
    assert c.get(reverse("schools:school_edit", args=[world.weak_a.pk])).status_code == 403
    assert c.post(reverse("schools:school_edit", args=[world.weak_a.pk]), {"name": "x"}).status_code == 403
    assert c.get(reverse("schools:school_create")).status_code == 403


def test_officer_edits_school_and_audit_records_it(world, client_for):
    from auditlog.models import LogEntry

    c = client_for(world.officer_a)
    url = reverse("schools:school_edit", args=[world.weak_a.pk])
    data = {
        "code": world.weak_a.code,
        "name": "汶上李庄中心小学",
        "county": world.county_a.pk,
        "town": world.town_a.pk,
        "village": world.village_a.pk,
        "stage": "primary",
        "location": "rural",
        "is_weak": "on",
        "address": "",
        "pupils": 120,
    }
    r = c.post(url, data, REMOTE_ADDR="10.1.2.3")
    assert r.status_code == 302, r.context["form"].errors if r.context else r
    world.weak_a.refresh_from_db()
    assert world.weak_a.name == "汶上李庄中心小学"
    entry = LogEntry.objects.get_for_object(world.weak_a).latest("timestamp")
    assert entry.actor == world.officer_a
    assert entry.remote_addr == "10.1.2.3"
    assert entry.changes_dict["name"] == ["汶上李庄小学", "汶上李庄中心小学"]


def test_forged_post_with_other_county_is_rejected(world, client_for):
    c = client_for(world.officer_a)
    data = {
        "code": "0830000099",
        "name": "新学校",
        "county": world.county_b.pk,
        "stage": "primary",
        "location": "urban",
        "pupils": 0,
    }
    r = c.post(reverse("schools:school_create"), data)
    assert r.status_code == 200
    assert "county" in r.context["form"].errors
    assert not School.objects.filter(code="0830000099").exists()


def test_village_list_counts_schools_and_stays_in_scope(world, client_for, django_assert_num_queries):
    c = client_for(world.officer_a)
    with django_assert_num_queries(4):
        r = c.get(reverse("schools:village_list"))
    rows = {v.code: v.n_schools for v in r.context["page"]}
    assert rows == {world.village_a.code: 1}  # the other county's village is not listed
    assert client_for(world.auditor).get(reverse("schools:village_list")).context["page"].paginator.count == 2


def test_home_panel_counts_are_cached_until_a_school_changes(world, client_for):
    """The schools panel's counts come from the shared cache; a school's save shows in them at once."""
    from django.test import TestCase

    from schools.models import School

    c = client_for(world.officer_a)

    def stats():
        panels = c.get(reverse("home")).context["panels"]
        return next(p for p in panels if p["template"] == "schools/home_panel.html")["stats"]

    first = stats()
    assert stats() == first
    weak = School.objects.filter(county=world.county_a, is_weak=False).first()
    with TestCase.captureOnCommitCallbacks(execute=True):
        weak.is_weak = True
        weak.save()
    assert stats()["weak"] == first["weak"] + 1 and stats()["total"] == first["total"]
