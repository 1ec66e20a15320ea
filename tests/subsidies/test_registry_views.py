"""Registry pages: households with their status history, pupils (masked IDs), scope and read-only."""

import pytest
from django.urls import reverse

from subsidies.models import HouseholdStatus

from .factories import household, pupil

pytestmark = [pytest.mark.django_db]


def test_household_pages_and_status_change(places, client_for, django_assert_num_queries):
    w = places
    h = household(w.village_a, ("verified", "2016-01-15"))
    pupil(w.weak_a, household=h)
    url = reverse("subsidies:household_detail", args=[h.pk])
    c = client_for(w.officer_a)
    with django_assert_num_queries(3):
        r = c.get(reverse("subsidies:household_list"))
    assert r.status_code == 200 and len(r.context["page"]) == 1
    assert client_for(w.officer_b).get(url).status_code == 404
    assert (
        client_for(w.auditor)
        .post(url, {"status": "lifted", "effective_on": "2016-12-01", "reason": "脱贫"})
        .status_code
        == 403
    )
    r = client_for(w.officer_a).post(url, {"status": "lifted", "effective_on": "2016-12-01", "reason": ""})
    assert r.status_code == 200 and "reason" in r.context["form"].errors
    r = client_for(w.officer_a).post(url, {"status": "lifted", "effective_on": "2016-12-01", "reason": "稳定脱贫"})
    assert r.status_code == 302
    st = HouseholdStatus.objects.get(household=h, status="lifted")
    assert st.recorded_by == w.officer_a
    from auditlog.models import LogEntry

    assert LogEntry.objects.get_for_object(st).filter(actor=w.officer_a).exists()


def test_student_list_scope_and_masking(places, client_for, django_assert_num_queries):
    w = places
    mine = pupil(w.weak_a)
    other = pupil(w.weak_b)
    c = client_for(w.principal_a)
    with django_assert_num_queries(3):
        r = c.get(reverse("subsidies:student_list"))
    body = r.content.decode()
    assert mine.masked_id in body and mine.id_number not in body and other.name not in body
    r = client_for(w.auditor).get(reverse("subsidies:student_list"))  # lists mask for everyone (jinpin.privacy)
    body = r.content.decode()
    assert mine.masked_id in body and other.masked_id in body and mine.id_number not in body
