"""The lists kept as data (市直部门, the 六核对 checklist, finding categories) edited in the application by
the city administrator: one pattern for the three, others refused, every change audited; a deactivated
department leaves the next department draws while the earlier draw still verifies; a deactivated checklist
item or category is no longer offered."""

import pytest

from inspections import services
from inspections.models import ChecklistItem, CityDepartment, Draw, FindingCategory
from jinpin import audit

from .helpers import confirmed_draw
from .test_draws import propose

KINDS = {"departments": CityDepartment, "checklist": ChecklistItem, "categories": FindingCategory}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(KINDS))
def test_only_the_city_administrator_reads_and_edits_the_lists(sv, client_for, kind):
    row = KINDS[kind].objects.first()
    urls = [f"/inspections/lists/{kind}/", f"/inspections/lists/{kind}/new/", f"/inspections/lists/{kind}/{row.pk}/"]
    admin = client_for(sv.admin)
    for url in urls:
        assert admin.get(url).status_code == 200, url
    before = KINDS[kind].objects.count()
    for user in (sv.inspector, sv.officer_a, sv.auditor, sv.principal_a):
        c = client_for(user)
        for url in urls:
            assert c.get(url).status_code == 403, (user, url)
            assert c.post(url, {"code": "X9", "name": "x", "label": "x", "order": 1}).status_code == 403
    assert KINDS[kind].objects.count() == before
    assert admin.get("/inspections/lists/nothing/").status_code == 404
    assert admin.get(f"/inspections/lists/{kind}/999999/").status_code == 404


@pytest.mark.django_db
def test_the_campaign_pages_link_the_lists_for_the_administrator_only(sv, client_for):
    page = client_for(sv.admin).get("/inspections/").content.decode()
    assert all(f"/inspections/lists/{k}/" in page for k in KINDS)
    assert "市直部门" in page and "六核对" in page
    # and the section's second row (the menu) offers them to the administrator only
    assert 'href="/inspections/lists/"' in page and "基础名单" in page
    assert client_for(sv.admin).get("/inspections/lists/").context["spec"].model is CityDepartment
    page = client_for(sv.inspector).get("/inspections/").content.decode()
    assert "/inspections/lists/" not in page
    assert client_for(sv.inspector).get("/inspections/lists/").status_code == 403


@pytest.mark.django_db
def test_adding_renaming_and_deactivating_a_department_is_audited(sv, client_for):
    c = client_for(sv.admin)
    r = c.post(
        "/inspections/lists/departments/new/", {"code": "D21", "name": "市教育局", "order": 21, "is_active": "on"}
    )
    assert r.status_code == 302 and r.url == "/inspections/lists/departments/"
    dept = CityDepartment.objects.get(code="D21")
    assert dept.name == "市教育局" and dept.is_active
    # rename and deactivate; the code stays what it was, whatever is posted
    r = c.post(f"/inspections/lists/departments/{dept.pk}/", {"code": "ZZ", "name": "市教育体育局", "order": 21})
    assert r.status_code == 302
    dept.refresh_from_db()
    assert (dept.code, dept.name, dept.is_active) == ("D21", "市教育体育局", False)
    entries = list(audit.LogEntry.objects.get_for_object(dept).order_by("pk"))
    assert [e.action for e in entries] == [audit.Action.CREATE, audit.Action.UPDATE]
    assert all(e.actor_id == sv.admin.pk for e in entries)
    assert entries[1].changes_dict["name"] == ["市教育局", "市教育体育局"]
    assert entries[1].changes_dict["is_active"] == ["True", "False"]
    page = c.get("/inspections/lists/departments/").content.decode()
    assert "市教育体育局" in page and "停用" in page
    # a duplicate name is refused on the form, nothing written
    r = c.post("/inspections/lists/departments/new/", {"code": "D22", "name": "市财政局", "order": 22})
    assert r.status_code == 200 and not CityDepartment.objects.filter(code="D22").exists()


@pytest.mark.django_db
def test_a_deactivated_department_leaves_new_draws_and_the_old_draw_still_verifies(sv, client_for):
    old = propose(sv, kind="departments", params={"count": 5}, seed="0537")
    services.draw_confirm(draw=old, acting_user=sv.inspector)
    gone = CityDepartment.objects.get(pk=old.sample[0][1])
    r = client_for(sv.admin).post(
        f"/inspections/lists/departments/{gone.pk}/", {"name": gone.name, "order": gone.order}
    )  # is_active unchecked
    assert r.status_code == 302 and not CityDepartment.objects.get(pk=gone.pk).is_active
    ok, notes = services.draw_verify(draw=Draw.objects.get(pk=old.pk))
    assert ok, notes
    new = propose(sv, kind="departments", params={"count": 5}, seed="0537", reason="部门名单调整")
    assert new.population_size == old.population_size - 1 == CityDepartment.objects.filter(is_active=True).count()
    assert gone.pk not in {i for _s, i in new.population} and gone.pk in {i for _s, i in old.population}
    assert services.draw_verify(draw=Draw.objects.get(pk=new.pk))[0]
    # the old record (superseded now) still names the department it drew
    page = client_for(sv.admin).get(f"/inspections/draws/{old.pk}/").content.decode()
    assert gone.name in page


@pytest.mark.django_db
def test_deactivated_checklist_items_and_categories_are_no_longer_offered(sv, client_for):
    d = confirmed_draw(sv)
    item = ChecklistItem.objects.get(code="vehicle")
    c = client_for(sv.admin)
    c.post(f"/inspections/lists/checklist/{item.pk}/", {"label": "核对车辆", "help_text": "", "order": item.order})
    cat = FindingCategory.objects.get(code="other")
    c.post(f"/inspections/lists/categories/{cat.pk}/", {"name": cat.name, "order": cat.order})
    assert not ChecklistItem.objects.get(pk=item.pk).is_active and not FindingCategory.objects.get(pk=cat.pk).is_active
    checklist = client_for(sv.inspector).get(f"/inspections/groups/{sv.group.pk}/cards/").context["data"]["checklist"]
    assert "核对车辆" not in {i["label"] for i in checklist} and len(checklist) == ChecklistItem.objects.count() - 1
    form = client_for(sv.inspector).get(f"/inspections/findings/new/?item={d.items.first().pk}").content.decode()
    assert "资金发放问题" in form and f'value="{cat.pk}"' not in form
