"""Forged or absurd input gets a clear message, never a 500, and saves nothing."""

import pytest
from django.urls import reverse

from pairing.models import Secondment
from teachers.models import ServicePeriod

from .factories import teacher

pytestmark = pytest.mark.django_db


def test_a_secondment_ending_in_year_9999_is_a_message(world, pair, officer):
    t = teacher(world.weak_a)
    r = officer.post(
        reverse("pairing:secondment_create", args=[pair.pk]),
        {"direction": "to_helping", "teacher": t.pk, "starts_on": "2017-03-01", "ends_on": "9999-12-31"},
    )
    assert r.status_code == 200 and "ends_on" in r.context["form"].errors
    assert not Secondment.objects.exists() and not ServicePeriod.objects.filter(teacher=t).exists()


@pytest.mark.parametrize("page", ["999999999999999999999999", "-3", "x", "2"])
def test_the_compliance_page_survives_any_page_number(world, pair, officer, page):
    r = officer.get(
        reverse("pairing:compliance") + f"?page={page}&year=99999999999999999999&county=99999999999999999999"
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    "dates, field",
    [
        ({"drafted_on": "2017-05-01", "adopted_on": "2017-01-01"}, "adopted_on"),
        ({"drafted_on": "9999-12-31", "adopted_on": "2017-01-01"}, "drafted_on"),
    ],
)
def test_milestone_dates_in_the_wrong_order_are_refused(world, pair, client_for, dates, field):
    from pairing.models import SchoolMilestone

    r = client_for(world.principal_a).post(
        reverse("pairing:milestone_set", args=[pair.pk, world.weak_a.pk]),
        {"kind": "plan", "status": "adopted", **dates},
    )
    assert r.status_code == 200 and field in r.context["form"].errors
    assert not SchoolMilestone.objects.exists()


@pytest.mark.parametrize("kind", ["agreements", "activities", "donations", "compliance"])
def test_forged_export_forms_give_a_job_not_a_500(world, pair, officer, django_capture_on_commit_callbacks, kind):
    from jinpin.models import Job

    with django_capture_on_commit_callbacks(execute=True):
        r = officer.post(
            reverse("pairing:export", args=[kind]),
            {
                "q": "\x00",
                "county": "99999999999999999999",
                "year": "99999999999999999999",
                "agreement": "1e400",
                "start": "2017-99-01",
                "school_year": "-1",
                "received": "x",
                "missed": "1",
            },
        )
    assert r.status_code == 302
    job = Job.objects.get(kind="export")
    assert job.status == Job.Status.SUCCEEDED, job.message


def test_a_double_submitted_first_milestone_is_a_message_not_a_500(world, pair, monkeypatch):
    import datetime as dt

    from django.core.exceptions import ValidationError
    from django.db.models import QuerySet

    from pairing import services
    from pairing.models import SchoolMilestone, SchoolMilestoneKind, SchoolMilestoneStatus

    kw = {
        "school": world.weak_a,
        "kind": SchoolMilestoneKind.PLAN,
        "status": SchoolMilestoneStatus.DRAFTED,
        "drafted_on": dt.date(2016, 10, 1),
        "acting_user": world.principal_a,
    }
    services.milestone_set(**kw)
    real_first, real_exists = QuerySet.first, QuerySet.exists
    # the second request looked before the first saved
    monkeypatch.setattr(QuerySet, "first", lambda self: None if self.model is SchoolMilestone else real_first(self))
    monkeypatch.setattr(QuerySet, "exists", lambda self: False if self.model is SchoolMilestone else real_exists(self))
    with pytest.raises(ValidationError, match="reload"):
        services.milestone_set(**kw)
    monkeypatch.undo()
    assert SchoolMilestone.objects.count() == 1
