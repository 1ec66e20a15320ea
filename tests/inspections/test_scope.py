"""Inspector scope follows assignments: their group's counties while the campaign runs; 404 outside."""

import json
import uuid

import pytest

from inspections.models import Campaign, Finding
from jinpin.scope import Role, get_scope
from tests.factories import make_user

from .helpers import confirmed_draw


@pytest.mark.django_db
def test_scope_is_the_groups_counties_while_running(sv):
    assert get_scope(sv.inspector).inspector_county_ids == {sv.county_a.pk}
    other = make_user(Role.INSPECTOR, username="t_inspector_other")
    assert get_scope(other).inspector_county_ids == frozenset()
    Campaign.objects.filter(pk=sv.campaign.pk).update(status="closed")
    fresh = type(sv.inspector).objects.get(pk=sv.inspector.pk)  # the scope is cached per user object
    assert get_scope(fresh).inspector_county_ids == frozenset()


@pytest.mark.django_db
def test_pages_404_outside_the_assignment(sv, client_for):
    d = confirmed_draw(sv)
    item = d.items.first()
    mine = client_for(sv.inspector)
    outsider = client_for(make_user(Role.INSPECTOR, username="t_inspector_other"))
    for url in (
        f"/inspections/campaigns/{sv.campaign.pk}/",
        f"/inspections/draws/{d.pk}/",
        f"/inspections/items/{item.pk}/",
        f"/inspections/groups/{sv.group.pk}/cards/",
    ):
        assert mine.get(url).status_code == 200, url
        assert outsider.get(url).status_code == 404, url
    body = {"client_uuid": str(uuid.uuid4()), "item": item.pk, "outcome": "visited", "results": []}
    r = outsider.post("/inspections/api/checks/", json.dumps(body), content_type="application/json")
    assert r.status_code == 404
    # once the campaign is closed the inspector's own items are closed too
    Campaign.objects.filter(pk=sv.campaign.pk).update(status="closed")
    assert client_for(sv.inspector).get(f"/inspections/items/{item.pk}/").status_code == 404


@pytest.mark.django_db
def test_county_officers_see_their_county_only_and_cannot_check(sv, client_for):
    d = confirmed_draw(sv)
    item = d.items.first()
    assert client_for(sv.officer_a).get(f"/inspections/items/{item.pk}/").status_code == 200
    assert client_for(sv.officer_b).get(f"/inspections/items/{item.pk}/").status_code == 404
    body = {"client_uuid": str(uuid.uuid4()), "item": item.pk, "outcome": "visited", "results": []}
    r = client_for(sv.officer_a).post("/inspections/api/checks/", json.dumps(body), content_type="application/json")
    assert r.status_code == 403
    assert client_for(sv.principal_a).get(f"/inspections/items/{item.pk}/").status_code == 403


@pytest.mark.django_db
def test_auditor_reads_everything_but_cannot_draw(sv, client_for):
    d = confirmed_draw(sv)
    c = client_for(sv.auditor)
    assert c.get(f"/inspections/draws/{d.pk}/").status_code == 200
    assert c.post(f"/inspections/groups/{sv.group.pk}/draw/households/", {"rate": "0.1"}).status_code == 403
    assert not Finding.objects.exists()


@pytest.mark.django_db
def test_a_group_without_assignment_draws_from_nothing_and_idle_inspector_home(sv, client_for):
    from inspections.models import Group

    lone = Group.objects.create(campaign=sv.campaign, name="第十组")
    lone.members.add(sv.inspector)
    c = client_for(sv.inspector)
    assert c.get(f"/inspections/groups/{lone.pk}/draw/departments/").status_code == 200
    r = c.post(f"/inspections/groups/{lone.pk}/draw/households/", {"rate": "0.1", "minimum": 1})
    assert r.status_code == 302
    assert lone.draws.get().population_size == 0
    other = make_user(Role.INSPECTOR, username="t_idle_inspector")
    assert "No running campaign assigns you a county." in client_for(other).get("/home/").content.decode() or (
        "目前没有进行中的督查活动给您分配县区" in client_for(other).get("/home/").content.decode()
    )
