"""A rerun's difference on an award in process is an open item: no approval until an officer resolves it."""

import datetime as dt
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from subsidies.models import Allocation, Award, AwardStatus, AwardStep, BatchChange, HouseholdStatus, Scheme
from subsidies.services.workflow import award_transition, resolve_difference

from .conftest import run_batch
from .factories import household, pupil

pytestmark = [pytest.mark.django_db]


def says(response, msgid, **values) -> bool:
    """The page shows ``msgid`` in the language it was rendered in (the catalogue may or may not translate it yet)."""
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        text = translation.gettext(msgid) % values if values else translation.gettext(msgid)
    return escape(text) in response.content.decode()


OPEN_MSG = (
    "%(n)s awards were not approved: a batch rerun found them no longer eligible or their amount changed, "
    "and nobody has resolved that difference yet. Resolve it on the award's page (accept the new amount, "
    "withdraw the award, or keep it as is with a justification), then approve."
)


def move(user, action, qs, reason=""):
    from jinpin.scope import get_scope

    return award_transition(awards=qs, action=action, acting_user=user, scope=get_scope(user), reason=reason)


@pytest.fixture
def reviewed(places, period):
    """Two nutrition awards at weak_a, applied and reviewed; then the registry changes and the batch reruns:
    one household was lifted out before the decisive date (no longer eligible), the other child is an orphan (3,650)."""
    w = places
    lifted = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
    orphan = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
    run_batch(period)
    Allocation.objects.create(
        scheme=Scheme.objects.get(code="nutrition"), county=w.county_a, school_year=2016, amount=Decimal("100000")
    )
    qs = Award.objects.filter(student__in=[lifted, orphan], scheme__code="nutrition")
    move(w.principal_a, "apply", qs)
    move(w.principal_a, "review", qs)
    HouseholdStatus.objects.create(household=lifted.household, status="lifted", effective_on=dt.date(2016, 8, 1))
    orphan.is_orphan = True
    orphan.save(update_fields=["is_orphan"])
    run_batch(period)
    return Award.objects.get(student=lifted, scheme__code="nutrition"), Award.objects.get(
        student=orphan, scheme__code="nutrition"
    )


def test_approval_is_refused_while_a_difference_is_open(places, reviewed):
    w = places
    dropped, changed = reviewed
    assert BatchChange.objects.filter(award=dropped, kind="dropped", applied=False, resolution="").count() == 1
    assert (
        BatchChange.objects.filter(
            award=changed, kind="changed", applied=False, resolution="", new_amount=Decimal("3650.00")
        ).count()
        == 1
    )
    out = move(w.officer_a, "approve", Award.objects.filter(pk__in=[dropped.pk, changed.pk]))
    assert (out.moved, out.open_difference, out.skipped) == (0, 2, 0)
    assert set(Award.objects.filter(pk__in=[dropped.pk, changed.pk]).values_list("status", flat=True)) == {
        AwardStatus.REVIEWED
    }


def test_bulk_and_single_approval_in_the_page_say_why(places, reviewed, client_for):
    w = places
    dropped, changed = reviewed
    c = client_for(w.officer_a)
    listing = c.get(reverse("subsidies:award_list")).content.decode()
    assert (
        listing.count("open-difference") == 2
        and reverse("subsidies:award_detail", args=[dropped.pk]) + "#difference" in listing
    )
    r = c.post(reverse("subsidies:award_action"), {"action": "approve", "ids": [dropped.pk]}, follow=True)
    assert says(r, OPEN_MSG, n=1)
    r = c.post(reverse("subsidies:award_action"), {"action": "approve", "all_matching": "on", "query": ""}, follow=True)
    assert says(r, OPEN_MSG, n=2)
    assert not Award.objects.filter(status=AwardStatus.APPROVED).exists()


def test_keep_as_is_with_a_reason_then_approve_and_a_rerun_does_not_ask_again(places, reviewed, period, client_for):
    w = places
    dropped, _ = reviewed
    c = client_for(w.officer_a)
    page = c.get(reverse("subsidies:award_detail", args=[dropped.pk])).content.decode()
    assert 'id="difference"' in page and 'id="resolve-form"' in page
    r = c.post(reverse("subsidies:award_resolve", args=[dropped.pk]), {"resolution": "keep", "reason": ""}, follow=True)
    assert BatchChange.objects.filter(award=dropped, resolution="").exists()  # a reason is required
    r = c.post(
        reverse("subsidies:award_resolve", args=[dropped.pk]),
        {"resolution": "keep", "reason": "回头看 confirms poverty in August"},
        follow=True,
    )
    assert r.status_code == 200
    ch = BatchChange.objects.get(award=dropped, applied=False)
    assert (ch.resolution, ch.resolved_by, ch.resolution_reason) == (
        "keep",
        w.officer_a,
        "回头看 confirms poverty in August",
    )
    assert ch.resolved_at is not None
    entry = LogEntry.objects.filter(additional_data__event="batch_difference_resolved").get()
    assert entry.actor == w.officer_a and entry.additional_data["resolution"] == "keep"
    assert move(w.officer_a, "approve", Award.objects.filter(pk=dropped.pk)).moved == 1
    run_batch(period)  # the same difference again: already kept with a justification, not a new open item
    assert not BatchChange.objects.filter(award=dropped, applied=False, resolution="").exists()


def test_accept_the_new_amount(places, reviewed):
    from jinpin.scope import get_scope

    w = places
    dropped, changed = reviewed
    with pytest.raises(Exception, match="Only a changed amount"), translation.override("en"):
        resolve_difference(
            award_id=dropped.pk, resolution="accept", reason="x", acting_user=w.officer_a, scope=get_scope(w.officer_a)
        )
    resolve_difference(
        award_id=changed.pk,
        resolution="accept",
        reason="orphan since July",
        acting_user=w.officer_a,
        scope=get_scope(w.officer_a),
    )
    changed.refresh_from_db()
    assert (changed.amount, changed.status, changed.facts["orphan"]) == (Decimal("3650.00"), AwardStatus.REVIEWED, True)
    assert AwardStep.objects.filter(
        award=changed, action="accept", actor=w.officer_a, reason="orphan since July"
    ).exists()
    assert move(w.officer_a, "approve", Award.objects.filter(pk=changed.pk)).moved == 1


def test_withdraw_the_award(places, reviewed, client_for):
    w = places
    dropped, _ = reviewed
    c = client_for(w.officer_a)
    c.post(
        reverse("subsidies:award_resolve", args=[dropped.pk]),
        {"resolution": "withdraw", "reason": "lifted out in August"},
    )
    dropped.refresh_from_db()
    assert dropped.status == AwardStatus.DROPPED
    assert AwardStep.objects.filter(
        award=dropped, action="withdraw", from_status="reviewed", to_status="dropped"
    ).exists()
    assert BatchChange.objects.get(award=dropped, applied=False).resolution == "withdraw"


def test_resolve_permissions(places, reviewed, client_for):
    w = places
    dropped, _ = reviewed
    url = reverse("subsidies:award_resolve", args=[dropped.pk])
    data = {"resolution": "keep", "reason": "x"}
    assert client_for(w.officer_b).post(url, data).status_code == 404
    assert client_for(w.auditor).post(url, data).status_code == 403
    assert client_for(w.principal_a).post(url, data).status_code == 403
    assert client_for(w.principal_b).post(url, data).status_code in (403, 404)
    assert BatchChange.objects.filter(award=dropped, applied=False, resolution="").exists()


def test_run_and_award_pages_take_constant_queries(places, reviewed, period, client_for, django_assert_num_queries):
    from subsidies.models import BatchRun

    w = places
    for _i in range(6):
        pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
    run = BatchRun.objects.latest("started_at")
    c = client_for(w.admin)
    dropped, _ = reviewed
    with django_assert_num_queries(5):
        assert c.get(reverse("subsidies:run_detail", args=[run.pk])).status_code == 200
    with django_assert_num_queries(6):  # with the award's payout lines
        assert c.get(reverse("subsidies:award_detail", args=[dropped.pk])).status_code == 200
    with django_assert_num_queries(8):  # the page's keys, then its rows by key (jinpin.paging.fetch_page)
        assert c.get(reverse("subsidies:award_list")).status_code == 200


def test_run_page_shows_open_and_resolved(places, reviewed, client_for):
    from subsidies.models import BatchRun

    w = places
    dropped, changed = reviewed
    run = BatchRun.objects.latest("started_at")
    c = client_for(w.officer_a)
    c.post(reverse("subsidies:award_resolve", args=[dropped.pk]), {"resolution": "keep", "reason": "checked in person"})
    c = client_for(w.admin)  # a whole-city run
    r = c.get(reverse("subsidies:run_detail", args=[run.pk]))
    page = r.content.decode()
    assert (
        'id="difference-counts"' in page
        and "checked in person" in page
        and says(r, "Kept as is")
        and says(r, "Open differences")
    )
    assert reverse("subsidies:award_detail", args=[changed.pk]) + "#difference" in page
    opened = c.get(reverse("subsidies:run_detail", args=[run.pk]) + "?state=open").content.decode()
    assert "checked in person" not in opened and reverse("subsidies:award_detail", args=[changed.pk]) in opened


def test_a_later_run_supersedes_an_earlier_open_difference(places, reviewed, period):
    dropped, changed = reviewed
    run_batch(period)
    assert BatchChange.objects.filter(award=changed, applied=False, resolution="").count() == 1
    assert BatchChange.objects.filter(award=changed, resolution="superseded").count() == 1
