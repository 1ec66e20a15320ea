"""Pages: scope (404), read-only (403), bulk actions, masked IDs, constant query counts, forms with validation."""

from decimal import Decimal

import pytest
from django.urls import reverse

from jinpin.models import Job
from subsidies.models import Allocation, Award, RateVersion, Scheme

from .factories import household, pupil

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def awards(places, period):
    w = places
    nutrition = Scheme.objects.get(code="nutrition")
    rate = nutrition.rates.get()
    out = []
    for _i, school in enumerate([w.weak_a] * 5 + [w.weak_b]):
        s = pupil(school, household=household(school.village, ("verified", "2016-01-15")))
        out.append(
            Award.objects.create(
                student=s,
                scheme=nutrition,
                period=period,
                school=school,
                county=school.county,
                amount=Decimal("600.00"),
                rate_version=rate,
                facts={"household_status": "verified"},
            )
        )
    return out


def test_award_list_scope_and_masking(places, awards, client_for):
    w = places
    r = client_for(w.principal_a).get(reverse("subsidies:award_list"))
    assert r.status_code == 200
    assert {a.pk for a in r.context["page"]} == {a.pk for a in awards[:5]}
    body = r.content.decode()
    assert awards[0].student.masked_id in body and awards[0].student.id_number not in body
    r = client_for(w.auditor).get(reverse("subsidies:award_list"))  # lists mask for everyone (jinpin.privacy)
    assert len(r.context["page"]) == 6 and awards[0].student.id_number not in r.content.decode()
    r = client_for(w.auditor).get(reverse("subsidies:award_detail", args=[awards[0].pk]))  # one payment traced
    assert awards[0].student.id_number in r.content.decode()
    r = client_for(w.officer_b).get(reverse("subsidies:award_list"))
    assert {a.pk for a in r.context["page"]} == {awards[5].pk}


def test_award_list_query_count_is_constant(places, awards, client_for, django_assert_num_queries, period):
    from django.core.cache import cache

    c = client_for(places.officer_a)
    # the header's count and sum computed (then cached until a write commits); the page's keys, then its rows
    with django_assert_num_queries(8):
        c.get(reverse("subsidies:award_list"))
    for school in [places.weak_a] * 20:
        s = pupil(school)
        Award.objects.create(
            student=s,
            scheme=awards[0].scheme,
            period=period,
            school=school,
            county=school.county,
            amount=Decimal("600.00"),
            rate_version=awards[0].rate_version,
            facts={},
        )
    cache.clear()  # the test's writes never commit, so they never move the cache's stamp
    c.force_login(places.officer_a)  # the session was in the cache too
    with django_assert_num_queries(8):
        c.get(reverse("subsidies:award_list"))


def test_award_detail_scope(places, awards, client_for):
    url = reverse("subsidies:award_detail", args=[awards[0].pk])
    assert client_for(places.principal_a).get(url).status_code == 200
    assert client_for(places.officer_a).get(url).status_code == 200
    assert client_for(places.officer_b).get(url).status_code == 404
    assert client_for(places.principal_b).get(url).status_code == 404
    assert client_for(places.principal_strong_a).get(url).status_code == 404


def test_bulk_actions_through_the_page(places, awards, client_for):
    w = places
    url = reverse("subsidies:award_action")
    c = client_for(w.principal_a)
    r = c.post(url, {"action": "apply", "ids": [awards[0].pk, awards[1].pk, awards[5].pk]})
    assert r.status_code == 302
    assert set(Award.objects.filter(status="applied").values_list("pk", flat=True)) == {awards[0].pk, awards[1].pk}
    c.post(url, {"action": "apply", "all_matching": "on", "query": f"school={w.weak_a.pk}"})
    assert Award.objects.filter(status="applied").count() == 5
    c.post(url, {"action": "review", "all_matching": "on", "query": ""})
    r = client_for(w.officer_a).post(url, {"action": "return", "ids": [awards[0].pk]})
    assert Award.objects.get(pk=awards[0].pk).status == "reviewed"  # no reason: refused
    client_for(w.officer_a).post(url, {"action": "return", "ids": [awards[0].pk], "reason": "材料不全"})
    assert Award.objects.get(pk=awards[0].pk).status == "applied"


def test_auditor_and_inspector_cannot_act(places, awards, client_for):
    url = reverse("subsidies:award_action")
    assert client_for(places.auditor).post(url, {"action": "apply", "ids": [awards[0].pk]}).status_code == 403
    assert client_for(places.inspector).post(url, {"action": "apply", "ids": [awards[0].pk]}).status_code == 403
    assert client_for(places.auditor).post(reverse("subsidies:batch"), {}).status_code == 403
    assert client_for(places.auditor).post(reverse("subsidies:allocation_list"), {}).status_code == 403
    assert (
        client_for(places.auditor).get(reverse("subsidies:scheme_edit", args=[awards[0].scheme_id])).status_code == 403
    )
    assert (
        client_for(places.officer_a).get(reverse("subsidies:scheme_edit", args=[awards[0].scheme_id])).status_code
        == 403
    )


def test_officer_starts_the_county_batch(places, period, client_for, django_capture_on_commit_callbacks):
    w = places
    pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
    c = client_for(w.officer_a)
    assert c.get(reverse("subsidies:batch")).status_code == 200
    r = c.post(reverse("subsidies:batch"), {"period": period.pk, "county": w.county_b.pk})
    assert r.status_code == 200 and "county" in r.context["form"].errors  # another county is not a choice
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(reverse("subsidies:batch"), {"period": period.pk, "county": w.county_a.pk})
    job = Job.objects.get()
    assert r.status_code == 302 and r.url == reverse("job_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and Award.objects.count() == 3
    run = job.subsidy_run
    assert client_for(w.officer_a).get(reverse("subsidies:run_detail", args=[run.pk])).status_code == 200
    assert client_for(w.officer_b).get(reverse("subsidies:run_detail", args=[run.pk])).status_code == 404


def test_allocations_city_admin_sets_them(places, period, client_for):
    w = places
    nutrition = Scheme.objects.get(code="nutrition")
    data = {"scheme": nutrition.pk, "county": w.county_a.pk, "school_year": 2016, "amount": "50000.00", "note": ""}
    assert client_for(w.officer_a).post(reverse("subsidies:allocation_list"), data).status_code == 403
    r = client_for(w.admin).post(reverse("subsidies:allocation_list"), {**data, "amount": "-1"})
    assert r.status_code == 200 and not Allocation.objects.exists()
    assert client_for(w.admin).post(reverse("subsidies:allocation_list"), data).status_code == 302
    r = client_for(w.officer_a).get(reverse("subsidies:allocation_list"))
    assert r.status_code == 200 and len(r.context["rows"]) == 1
    assert len(client_for(w.officer_b).get(reverse("subsidies:allocation_list")).context["rows"]) == 0


def rate_rows(*lines, extra=1):
    """The rate form's rows (a formset) for ``(condition, amount, share, label)`` lines."""
    data = {"lines-TOTAL_FORMS": str(len(lines) + extra), "lines-INITIAL_FORMS": "0"}
    for i, line in enumerate(lines):
        when, amount, share, label = (*line, "", "", "")[:4]
        data.update({f"lines-{i}-when": when, f"lines-{i}-amount": amount, f"lines-{i}-share": share})
        data[f"lines-{i}-label"] = label
    return data


def test_rate_form_validates_tiers_and_dates(places, period, client_for):
    c = client_for(places.admin)
    preschool = Scheme.objects.get(code="preschool")
    url = reverse("subsidies:rate_create", args=[preschool.pk])
    page = c.get(url)
    assert page.status_code == 200
    # the current version's tiers come filled in, their conditions as drop-downs of this rule's conditions
    assert page.context["form"].rows.forms[0].initial["when"] == preschool.rates.get().lines[0]["when"]
    assert '<option value="group:poor" selected>' in page.content.decode()
    bad = {
        "effective_from": "2017-01-01",
        "average": "1200",
        **rate_rows(("group:poor", "1600", "0.4", "一档"), ("any", "1000", "0.6", "二档")),
    }
    r = c.post(url, bad)
    assert r.status_code == 200 and "1240.00" in str(r.context["form"].errors)
    good_rows = rate_rows(("group:poor", "1500", "0.4"), ("any", "1000", "0.6"))
    r = c.post(url, {**bad, "effective_from": "2016-01-01", **good_rows})
    assert "effective_from" in r.context["form"].errors
    # a row's mistakes are reported in Chinese on the row; nothing is saved
    r = c.post(url, {**bad, **rate_rows(("group:nobody", "-5", "2"), ("any", "1000", "0.6"))})
    assert r.status_code == 200
    row_errors = r.context["form"].rows.errors[0]
    assert set(row_errors) == {"when", "amount", "share"}, row_errors
    assert "不是可用的选项" in str(row_errors["when"]) or "选择" in str(row_errors["when"])
    r = c.post(url, {**bad, **good_rows})
    assert r.status_code == 302
    new = RateVersion.objects.get(scheme=preschool, effective_from="2017-01-01")
    assert preschool.rates.count() == 2 and new.created_by == places.admin
    assert new.lines == [
        {"when": "group:poor", "amount": "1500.00", "share": "0.4"},
        {"when": "any", "amount": "1000.00", "share": "0.6"},
    ]
    # audited: who created which version
    from auditlog.models import LogEntry

    assert LogEntry.objects.get_for_object(new).filter(actor=places.admin).exists()


def test_scheme_form_validation(places, client_for):
    c = client_for(places.admin)
    loan = Scheme.objects.get(code="student_loan")
    url = reverse("subsidies:scheme_edit", args=[loan.pk])
    data = {
        "code": loan.code,
        "name": loan.name,
        "kind": "loan",
        "funding_source": "central",
        "amount_rule": "fixed",
        "min_age": 10,
        "max_age": 5,
        "order": 1,
        "groups": ["poor"],
    }
    r = c.post(url, data)
    assert r.status_code == 200
    errors = r.context["form"].errors
    assert "max_age" in errors and "amount_rule" in errors


def test_scheme_edit_saves_data_rules(places, client_for):
    c = client_for(places.admin)
    s = Scheme.objects.get(code="boarding_allowance")
    data = {
        "code": s.code,
        "name": "寄宿生生活补助（调整）",
        "kind": "cash",
        "funding_source": "central",
        "amount_rule": "by_stage",
        "stages": ["primary", "junior", "nine_year"],
        "groups": ["poor", "dibao"],
        "boarders_only": "on",
        "order": 4,
        "is_active": "on",
    }
    r = c.post(reverse("subsidies:scheme_edit", args=[s.pk]), data)
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.stages == ["primary", "junior", "nine_year"] and s.groups == ["poor", "dibao"] and s.boarders_only


def test_loans_page_cap_and_disbursement(places, client_for):
    from subsidies.models import LoanApplication

    from .factories import pupil as make_pupil

    w = places
    s = make_pupil(w.senior_a)
    c = client_for(w.officer_a)
    data = {
        "id_number": s.id_number,
        "county": w.county_a.pk,
        "school_year": 2016,
        "level": "undergraduate",
        "institution": "山东大学",
        "amount": "8500.00",
    }
    r = c.post(reverse("subsidies:loan_list"), data)
    assert r.status_code == 200 and "amount" in r.context["form"].errors
    assert c.post(reverse("subsidies:loan_list"), {**data, "amount": "8000.00"}).status_code == 302
    loan = LoanApplication.objects.get()
    assert client_for(w.officer_b).post(reverse("subsidies:loan_disburse", args=[loan.pk])).status_code == 404
    assert client_for(w.auditor).post(reverse("subsidies:loan_disburse", args=[loan.pk])).status_code == 403
    assert c.post(reverse("subsidies:loan_disburse", args=[loan.pk])).status_code == 302
    assert LoanApplication.objects.get().status == "disbursed"


def test_nonsense_input_gets_a_page_not_a_500(places, awards, client_for):
    """Forged ids, odd digits, NUL characters and impossible numbers in query strings and POSTs."""
    w = places
    c, admin = client_for(w.officer_a), client_for(w.admin)
    for url in (
        reverse("subsidies:reconciliation") + "?year=abc&county=x",
        reverse("subsidies:reconciliation") + "?year=²",
        reverse("subsidies:anomalies") + "?period=abc",
        reverse("subsidies:household_list") + "?q=%00",
        reverse("subsidies:student_list") + "?q=a%00b&year=²",
        reverse("subsidies:award_list") + "?school=²",
    ):
        assert c.get(url).status_code == 200, url
    r = c.post(reverse("subsidies:award_action"), {"action": "apply", "ids": ["²", "-1", "99999999999999999999999"]})
    assert r.status_code == 302  # nothing valid selected: a message, not an error
    assert c.post(reverse("subsidies:reconciliation") + "?county=abc").status_code == 302
    job = Job.objects.latest("created_at")
    assert job.params["params"]["county"] is None
    boarding = Scheme.objects.get(code="boarding_allowance")
    for amount in ("NaN", "1e12", "Infinity"):
        lines = rate_rows(("stage:primary", amount), ("stage:junior", "1250"))
        r = admin.post(reverse("subsidies:rate_create", args=[boarding.pk]), {"effective_from": "2018-01-01", **lines})
        assert r.status_code == 200 and "amount" in r.context["form"].rows.errors[0], lines
    assert not RateVersion.objects.filter(scheme=boarding, effective_from="2018-01-01").exists()


def test_a_second_loan_for_the_same_student_and_year_is_a_form_error(places, client_for):
    from subsidies.models import LoanApplication

    w = places
    s = pupil(w.senior_a)
    c = client_for(w.officer_a)
    data = {
        "county": w.county_a.pk,
        "school_year": 2016,
        "level": "undergraduate",
        "institution": "山东大学",
        "amount": "5000",
        "id_number": s.id_number,
    }
    assert c.post(reverse("subsidies:loan_list"), data).status_code == 302
    r = c.post(reverse("subsidies:loan_list"), dict(data, amount="3000"))
    assert r.status_code == 200 and "school_year" in r.context["form"].errors
    assert LoanApplication.objects.filter(student=s).count() == 1


def test_forged_id_lists_move_nothing_outside_the_actor_s_area(places, awards, client_for):
    """Another school's principal and another county's officer post the ids of 汶上 weak_a's awards."""
    w = places
    url = reverse("subsidies:award_action")
    ids = [a.pk for a in awards[:5]]
    assert client_for(w.principal_strong_a).post(url, {"action": "apply", "ids": ids}).status_code == 302
    assert not Award.objects.filter(pk__in=ids).exclude(status="candidate").exists()
    Award.objects.filter(pk__in=ids).update(status="reviewed")
    assert client_for(w.officer_b).post(url, {"action": "approve", "ids": ids}).status_code == 302
    assert client_for(w.officer_b).post(url, {"action": "reject", "ids": ids, "reason": "伪造"}).status_code == 302
    assert set(Award.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"reviewed"}


def test_a_period_with_awards_keeps_its_decisive_date_in_the_admin(places, awards, period, client):
    import datetime as dt

    from django.contrib.auth import get_user_model

    su = get_user_model().objects.create_superuser("t_root", "root@example.org", "pw-Jinpin-2016")
    client.force_login(su)
    url = reverse("admin:subsidies_period_change", args=[period.pk])
    data = {
        "code": period.code,
        "name": period.name,
        "school_year": 2016,
        "starts_on": "2016-09-01",
        "ends_on": "2017-08-31",
        "decisive_date": "2017-03-01",
    }
    r = client.post(url, data)
    assert r.status_code in (200, 302)
    period.refresh_from_db()
    assert period.decisive_date != dt.date(2017, 3, 1)


def test_the_loan_form_looks_an_id_up_only_in_the_users_area(places, client_for):
    """An officer learns nothing about IDs outside their county: the same message whether the ID exists there or nowhere."""
    from jinpin import idcard
    from subsidies.models import LoanApplication

    from .factories import household

    w = places
    elsewhere = pupil(w.weak_b)  # enrolled in county B only
    home = pupil(
        w.weak_b, household=household(w.village_a, ("verified", "2016-01-15"))
    )  # schooled in B, household in A
    nowhere = idcard.make("370830", elsewhere.birth_date, 997, "M")
    c = client_for(w.officer_a)
    data = {
        "county": w.county_a.pk,
        "school_year": 2016,
        "level": "undergraduate",
        "institution": "山东大学",
        "amount": "5000",
    }
    errors = []
    for number in (elsewhere.id_number, nowhere):
        r = c.post(reverse("subsidies:loan_list"), dict(data, id_number=number))
        assert r.status_code == 200
        errors.append(r.context["form"].errors["id_number"])
    assert errors[0] == errors[1]
    assert c.post(reverse("subsidies:loan_list"), dict(data, id_number=home.id_number)).status_code == 302
    assert (
        client_for(w.admin).post(reverse("subsidies:loan_list"), dict(data, id_number=elsewhere.id_number)).status_code
        == 302
    )
    assert LoanApplication.objects.count() == 2
