"""The city administrator builds a campaign in the application (not the Django admin): the campaign,
its groups with inspector members, the counties assigned, and the on-the-spot draw of city
departments with the same draw record as every other draw. Only the city administrator writes;
inspectors read their own groups; every change is audited."""

import datetime as dt

import pytest
from auditlog.models import LogEntry

from inspections import services
from inspections.models import Assignment, Campaign, CityDepartment, Draw, Group
from jinpin.scope import Role
from tests.factories import make_user

pytestmark = [pytest.mark.django_db]


def campaign_data(**over):
    data = {
        "name": "2017 年专项督查",
        "kind": "payments",
        "starts_on": "2017-10-23",
        "ends_on": "2017-10-27",
        "registry_date": "2017-10-20",
        "status": "planned",
    }
    data.update(over)
    return data


def test_city_admin_creates_campaign_groups_assignment_and_draws_departments(sv, client_for):
    w = sv
    c = client_for(w.admin)
    r = c.post("/inspections/campaigns/new/", campaign_data())
    assert r.status_code == 302
    campaign = Campaign.objects.get(name="2017 年专项督查")
    page = c.get(f"/inspections/campaigns/{campaign.pk}/").content.decode()
    assert 'id="campaign-edit"' in page and 'id="group-new"' in page

    # the group form offers inspectors only (not the county officer), and the counties
    form = c.get(f"/inspections/campaigns/{campaign.pk}/groups/new/").context["form"]
    assert list(form.fields["members"].queryset) == [w.inspector]
    refused = c.post(
        f"/inspections/campaigns/{campaign.pk}/groups/new/",
        {"name": "第一组", "members": [w.officer_a.pk], "counties": [w.county_b.pk], "departments_to_draw": 5},
    )
    assert refused.status_code == 200 and not Group.objects.filter(campaign=campaign).exists()
    r = c.post(
        f"/inspections/campaigns/{campaign.pk}/groups/new/",
        {"name": "第一组", "members": [w.inspector.pk], "counties": [w.county_b.pk], "departments_to_draw": 3},
    )
    assert r.status_code == 302
    group = Group.objects.get(campaign=campaign, name="第一组")
    assert list(group.members.all()) == [w.inspector]
    assert list(group.assignment.counties.all()) == [w.county_b] and group.assignment.departments_to_draw == 3
    assert LogEntry.objects.get_for_object(group).exists()
    assert LogEntry.objects.get_for_object(group.assignment).exists()
    # a second group of the same name is refused with a message
    dup = c.post(
        f"/inspections/campaigns/{campaign.pk}/groups/new/",
        {"name": "第一组", "counties": [w.county_a.pk], "departments_to_draw": 0},
    )
    assert dup.status_code == 200 and dup.context["form"].errors["name"]

    # edit: counties changed; the campaign set running
    r = c.post(
        f"/inspections/groups/{group.pk}/edit/",
        {
            "name": "第一组",
            "members": [w.inspector.pk],
            "counties": [w.county_a.pk, w.county_b.pk],
            "departments_to_draw": 3,
        },
    )
    assert r.status_code == 302 and group.assignment.counties.count() == 2
    r = c.post(f"/inspections/campaigns/{campaign.pk}/edit/", campaign_data(status="running"))
    assert r.status_code == 302
    campaign.refresh_from_db()
    assert campaign.is_running
    assert LogEntry.objects.get_for_object(campaign).count() >= 2
    bad = c.post(f"/inspections/campaigns/{campaign.pk}/edit/", campaign_data(ends_on="2017-10-01"))
    assert bad.status_code == 200
    campaign.refresh_from_db()
    assert campaign.ends_on == dt.date(2017, 10, 27)

    # the on-the-spot draw of city departments: seed typed in, the same record, verifiable
    n_departments = CityDepartment.objects.filter(is_active=True).count()
    assert n_departments >= 5
    new = c.get(f"/inspections/groups/{group.pk}/draw/departments/")
    assert new.context["form"]["count"].initial == 3
    r = c.post(f"/inspections/groups/{group.pk}/draw/departments/", {"seed": "0537", "count": 3})
    draw = Draw.objects.get(group=group, kind=Draw.Kind.DEPARTMENTS)
    assert r.status_code == 302 and draw.seed == "0537" and draw.population_size == n_departments
    c.post(f"/inspections/draws/{draw.pk}/confirm/")
    assert group.assignment.departments.count() == 3
    ok, _notes = services.draw_verify(draw=Draw.objects.get(pk=draw.pk))
    assert ok
    page = c.get(f"/inspections/campaigns/{campaign.pk}/").content.decode()
    for d in group.assignment.departments.all():
        assert d.name in page


def test_only_the_city_admin_writes_and_inspectors_read_their_own_groups(sv, client_for):
    w = sv
    other = Group.objects.create(campaign=w.campaign, name="第二组")
    Assignment.objects.create(group=other).counties.add(w.county_b)
    stranger = make_user(Role.INSPECTOR, username="t_inspector_2")
    other.members.add(stranger)
    for user in (w.inspector, w.officer_a, w.auditor):
        c = client_for(user)
        assert c.get("/inspections/campaigns/new/").status_code == 403
        assert c.get(f"/inspections/campaigns/{w.campaign.pk}/edit/").status_code == 403
        assert c.get(f"/inspections/campaigns/{w.campaign.pk}/groups/new/").status_code == 403
        r = c.post(f"/inspections/groups/{w.group.pk}/edit/", {"name": "改名", "counties": [w.county_b.pk]})
        assert r.status_code == 403
    w.group.refresh_from_db()
    assert w.group.name == "第九组"
    # the inspector reads their own group, not the other one, and sees no edit links
    page = client_for(w.inspector).get(f"/inspections/campaigns/{w.campaign.pk}/").content.decode()
    assert "第九组" in page and "第二组" not in page and 'id="group-new"' not in page
    assert client_for(w.admin).get(f"/inspections/groups/{other.pk}/edit/").status_code == 200
