"""Who sees and writes what: a principal only their pair; officers their county; the auditor reads."""

import datetime as dt

import pytest
from django.urls import reverse

from pairing.models import Activity, Agreement, AgreementStatus

from .factories import log

pytestmark = pytest.mark.django_db

MEETING = {
    "kind": "joint_research",
    "held_on": "2016-10-12",
    "place": "汶上实验小学会议室",
    "online_link": "",
    "pupils": 0,
    "summary": "语文学科联合备课",
}


def test_principal_logs_for_own_pair_from_either_side(world, pair, client_for):
    for user in (world.principal_a, world.principal_strong_a):
        r = client_for(user).post(reverse("pairing:activity_create", args=[pair.pk]), MEETING)
        assert r.status_code == 302, r.context["form"].errors
    assert Activity.objects.filter(agreement=pair).count() == 2


def test_principal_of_another_school_cannot_log_or_see_the_pair(world, pair, pair_b, client_for):
    c = client_for(world.principal_b)
    assert c.get(reverse("pairing:activity_create", args=[pair.pk])).status_code == 404
    assert c.post(reverse("pairing:activity_create", args=[pair.pk]), MEETING).status_code == 404
    assert c.get(reverse("pairing:agreement_detail", args=[pair.pk])).status_code == 404
    a = log(pair, "seminar", dt.date(2016, 10, 1))
    assert c.get(reverse("pairing:activity_detail", args=[a.pk])).status_code == 404
    r = c.get(reverse("pairing:agreement_list"))
    assert [x.pk for x in r.context["page"]] == [pair_b.pk]
    r = c.get(reverse("pairing:activity_list"))
    assert list(r.context["page"]) == []
    assert not Activity.objects.filter(agreement=pair, created_by=world.principal_b).exists()


def test_other_county_officer_gets_404(world, pair, client_for):
    c = client_for(world.officer_b)
    for name in ("agreement_detail", "agreement_edit", "agreement_end", "activity_create", "donation_create"):
        assert c.get(reverse(f"pairing:{name}", args=[pair.pk])).status_code == 404, name
    assert c.post(reverse("pairing:agreement_activate", args=[pair.pk])).status_code == 404


def test_auditor_reads_but_gets_403_on_writes(world, pair, client_for):
    c = client_for(world.auditor)
    assert c.get(reverse("pairing:agreement_detail", args=[pair.pk])).status_code == 200
    assert c.get(reverse("pairing:activity_create", args=[pair.pk])).status_code == 403
    assert c.post(reverse("pairing:activity_create", args=[pair.pk]), MEETING).status_code == 403
    assert c.get(reverse("pairing:agreement_create")).status_code == 403
    assert c.get(reverse("pairing:agreement_end", args=[pair.pk])).status_code == 403
    assert c.post(reverse("pairing:agreement_activate", args=[pair.pk])).status_code == 403


def test_only_the_county_officer_or_the_city_creates_and_ends(world, pair, client_for):
    assert client_for(world.principal_strong_a).get(reverse("pairing:agreement_create")).status_code == 403
    assert client_for(world.principal_a).get(reverse("pairing:agreement_end", args=[pair.pk])).status_code == 403
    assert client_for(world.inspector).get(reverse("pairing:agreement_create")).status_code == 403
    r = client_for(world.officer_a).post(
        reverse("pairing:agreement_end", args=[pair.pk]), {"ended_on": "2017-08-31", "reason": "到期"}
    )
    assert r.status_code == 302
    pair.refresh_from_db()
    assert pair.status == AgreementStatus.ENDED


def test_officer_creates_and_activates_with_a_signed_document(world, client_for):
    from .factories import pdf

    c = client_for(world.officer_a)
    data = {
        "helping_school": world.strong_a.pk,
        "helped_schools": [world.weak_a.pk],
        "form": "one_to_one",
        "signed_on": "2016-09-01",
        "content": "教研、挂职、课题",
        "document": pdf(),
    }
    r = c.post(reverse("pairing:agreement_create"), data)
    assert r.status_code == 302, r.context["form"].errors
    a = Agreement.objects.get()
    assert a.document_type == "application/pdf" and a.document.name.startswith("agreements/")
    assert c.post(reverse("pairing:agreement_activate", args=[a.pk])).status_code == 302
    a.refresh_from_db()
    assert a.status == AgreementStatus.ACTIVE
    # the document is served to the pair and the county, never to another principal
    assert client_for(world.principal_a).get(reverse("pairing:agreement_document", args=[a.pk])).status_code == 200
    assert client_for(world.principal_b).get(reverse("pairing:agreement_document", args=[a.pk])).status_code == 404


def test_forged_post_with_other_county_schools_is_rejected(world, client_for):
    c = client_for(world.officer_a)
    data = {
        "helping_school": world.strong_b.pk,
        "helped_schools": [world.weak_b.pk],
        "form": "one_to_one",
        "signed_on": "2016-09-01",
    }
    r = c.post(reverse("pairing:agreement_create"), data)
    assert r.status_code == 200
    assert "helping_school" in r.context["form"].errors and "helped_schools" in r.context["form"].errors
    assert not Agreement.objects.exists()


def test_form_shows_the_rule_message(world, client_for):
    c = client_for(world.officer_a)
    data = {
        "helping_school": world.strong_a.pk,
        "helped_schools": [world.strong_a.pk],
        "form": "one_to_one",
        "signed_on": "2016-09-01",
    }
    r = c.post(reverse("pairing:agreement_create"), data)
    errors = " ".join(r.context["form"].errors["helped_schools"])
    assert "cannot help itself" in errors and "not a weak school" in errors


def test_donation_receipt_is_confirmed_by_the_helped_school(world, pair, client_for):
    from pairing import services

    d = services.donation_record(
        agreement=pair,
        recipient=world.weak_a,
        item="台式电脑",
        category="it",
        quantity=20,
        value="60000.00",
        donated_on=dt.date(2016, 12, 1),
        acting_user=world.principal_strong_a,
    )
    url = reverse("pairing:donation_confirm", args=[d.pk])
    assert client_for(world.principal_strong_a).post(url, {"received_on": "2016-12-05"}).status_code == 403
    assert client_for(world.principal_b).post(url, {"received_on": "2016-12-05"}).status_code == 404
    assert client_for(world.principal_a).post(url, {"received_on": "2016-12-05"}).status_code == 302
    d.refresh_from_db()
    assert d.received_by == world.principal_a and d.received_on == dt.date(2016, 12, 5)


def test_milestone_is_set_by_the_helped_school_principal_only(world, pair, client_for):
    url = reverse("pairing:milestone_set", args=[pair.pk, world.weak_a.pk])
    data = {"kind": "plan", "status": "adopted", "adopted_on": "2017-03-01"}
    assert client_for(world.principal_strong_a).post(url, data).status_code == 403
    assert client_for(world.principal_a).post(url, data).status_code == 302
    assert client_for(world.auditor).post(url, data).status_code == 403


def test_detail_offers_only_the_milestone_and_receipt_links_the_user_may_follow(world, client_for):
    """泗水's officer reads a pair its school helps in 汶上 but may not set 汶上's milestones or confirm its receipts."""
    import datetime as dt

    from pairing import services

    from .factories import agreement

    a = agreement(world.strong_b, world.weak_a)
    d = services.donation_record(
        agreement=a,
        recipient=world.weak_a,
        item="图书",
        category="books",
        quantity=1,
        value="1",
        donated_on=dt.date(2017, 3, 1),
        acting_user=world.admin,
    )
    milestone = reverse("pairing:milestone_set", args=[a.pk, world.weak_a.pk])
    confirm = reverse("pairing:donation_confirm", args=[d.pk])
    for user, offered in (
        (world.officer_b, False),
        (world.principal_b, False),
        (world.officer_a, True),
        (world.principal_a, True),
        (world.inspector, False),
        (world.auditor, False),
    ):
        page = client_for(user).get(reverse("pairing:agreement_detail", args=[a.pk])).content.decode()
        for url in (milestone, confirm):
            assert (url in page) == offered, (user.username, url)
            followed = client_for(user).get(url).status_code
            assert (followed == 200) == offered, (user.username, url, followed)
