"""List pages with a pinned query count, the compliance ranking, coverage, the home panel and the exports."""

import datetime as dt

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from jinpin.models import Job
from pairing import services
from pairing.models import AgreementForm, AgreementStatus
from schools.models import Location, Poverty, Stage
from tests.factories import SchoolFactory, VillageFactory

from .factories import agreement, log, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(world):
    """Six more pairs in 汶上县, each with activities, files and a donation."""
    out = []
    for i in range(6):
        helper = SchoolFactory(county=world.county_a, location=Location.COUNTY_TOWN)
        helped = SchoolFactory(county=world.county_a, is_weak=True, location=Location.RURAL)
        a = agreement(helper, helped)
        for d in (dt.date(2016, 10, 1 + i), dt.date(2017, 3, 1 + i)):
            act = log(a, "joint_research", d, files=[(png(), "image/png")])
            assert act.attachments.count() == 1
        services.donation_record(
            agreement=a,
            recipient=helped,
            item="图书",
            category="books",
            quantity=100 + i,
            value="1000.50",
            donated_on=dt.date(2016, 11, 1),
            acting_user=world.officer_a,
        )
        out.append(a)
    return out


@pytest.mark.parametrize(
    "name, queries",
    # compliance: 10, and 8 on a cold cache for its default year (the reference date: the latest day of each
    # figure's records, six indexed maxima kept under their apps' stamps, then the year and the semester);
    # activities: the page's keys, then its rows by key (jinpin.paging.fetch_page)
    [("agreement_list", 5), ("activity_list", 6), ("donation_list", 5), ("compliance", 18), ("coverage", 7)],
)
def test_list_pages_run_a_constant_number_of_queries(world, many, client_for, django_assert_num_queries, name, queries):
    c = client_for(world.officer_a)
    with django_assert_num_queries(queries):
        r = c.get(reverse(f"pairing:{name}"))
    assert r.status_code == 200


def test_agreement_detail_constant_queries(world, many, client_for, django_assert_num_queries):
    c = client_for(world.principal_strong_a)
    a = agreement(world.strong_a, world.weak_a)
    for i in range(5):
        log(a, "seminar", dt.date(2016, 10, 1 + i))
    with django_assert_num_queries(25):  # 19, and the reference date's six maxima on a cold cache
        r = c.get(reverse("pairing:agreement_detail", args=[a.pk]))
    assert r.status_code == 200
    assert b'data-state="met"' in r.content and b'data-state="missed"' in r.content


def test_compliance_page_ranks_by_missed_and_is_scoped(world, pair, pair_b, client_for):
    log(pair, "joint_research", dt.date(2016, 10, 1))
    r = client_for(world.officer_a).get(reverse("pairing:compliance"))
    assert [a.pk for a, *_ in r.context["ranked"]] == [pair.pk]
    r = client_for(world.admin).get(reverse("pairing:compliance"))
    ranked = r.context["ranked"]
    assert {a.pk for a, *_ in ranked} == {pair.pk, pair_b.pk}
    assert ranked[0][1] >= ranked[1][1]
    assert client_for(world.principal_b).get(reverse("pairing:compliance")).context["total"] == 1


def test_coverage_counts_key_village_one_to_one_and_lists_the_unpaired(world, pair, client_for):
    SchoolFactory(
        county=world.county_a,
        is_weak=True,
        location=Location.RURAL,
        stage=Stage.PRIMARY,
        village=VillageFactory(town=world.town_a, poverty=Poverty.MUNICIPAL),
        name="未结对小学",
    )
    r = client_for(world.officer_a).get(reverse("pairing:coverage"))
    row = r.context["rows"][0]
    assert (row["key_total"], row["key_paired"], row["key_pct"]) == (2, 1, 50.0)
    assert row["comp_total"] == 3 and row["comp_paired"] == 2  # the helper counts as paired
    assert [s.name for s in r.context["page"]] == ["未结对小学"]
    r = client_for(world.admin).get(reverse("pairing:coverage"))
    assert r.context["city"]["key_total"] == 3


def test_principal_home_shows_pair_status_and_what_is_due(world, pair, client_for):
    r = client_for(world.principal_a).get(reverse("home"))
    panel = next(p for p in r.context["panels"] if p["template"] == "pairing/home_panel.html")
    assert [p["agreement"].pk for p in panel["pairs"]] == [pair.pk]
    due = panel["pairs"][0]["due"]  # nothing logged yet: every minimum of the current periods is due
    assert due and all(c.state != "met" for c in due)
    assert {c.minimum.code for c in due} == {c.minimum.code for c in panel["pairs"][0]["cells"]}
    assert client_for(world.principal_b).get(reverse("home")).status_code == 200


def _run_export(client, kind, data=None):
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        r = client.post(reverse("pairing:export", args=[kind]), data or {})
    assert r.status_code == 302
    job = Job.objects.latest("created_at")
    assert job.status == Job.Status.SUCCEEDED, job.message
    from pathlib import Path

    from django.conf import settings

    wb = load_workbook(Path(settings.PRIVATE_ROOT) / job.result_file, read_only=True)
    return [list(row) for row in wb.worksheets[0].iter_rows(values_only=True)]


def test_exports_honour_scope_and_filters(world, many, pair_b, client_for):
    c = client_for(world.officer_a)
    rows = _run_export(c, "agreements")
    assert len(rows) == 1 + 6
    rows = _run_export(c, "activities", {"start": "2017-01-01"})
    assert len(rows) == 1 + 6
    rows = _run_export(c, "donations")
    assert len(rows) == 1 + 6 + 1
    assert rows[-1][6] == sum(100 + i for i in range(6)) and float(rows[-1][7]) == 6 * 1000.50
    rows = _run_export(c, "compliance")
    header, body = rows[0], rows[1:]
    assert len(header) == 10 and body
    assert {r[0] for r in body} == {a.pk for a in many}
    assert {r[9] for r in body} >= {"Met", "Missed"}


def test_one_to_many_form_and_activation_via_the_page(world, client_for):
    helped = [SchoolFactory(county=world.county_a, is_weak=True, location=Location.COUNTY_TOWN) for _ in range(2)]
    a = services.agreement_create(
        helping_school=world.strong_a,
        helped_schools=helped,
        form=AgreementForm.ONE_TO_MANY,
        signed_on=dt.date(2016, 9, 1),
        acting_user=world.officer_a,
    )
    r = client_for(world.officer_a).post(reverse("pairing:agreement_activate", args=[a.pk]))
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.status == AgreementStatus.ACTIVE and a.links.filter(active=True).count() == 2


def test_compliance_page_is_cached_until_a_write_commits(world, pair, client_for, django_assert_num_queries):
    from django.test import TestCase

    from pairing.models import SchoolYear

    c = client_for(world.officer_a)
    url = reverse("pairing:compliance") + f"?o=met&year={SchoolYear.objects.get(name='2016–2017').pk}"
    c.get(url)
    with django_assert_num_queries(6):  # the stamp, no compliance statement
        r = c.get(url)
    assert r.context["totals"]["met"] == 0
    with TestCase.captureOnCommitCallbacks(execute=True):
        log(pair, "joint_research", dt.date(2016, 10, 1))
    assert client_for(world.officer_a).get(url).context["totals"]["met"] == 1


def test_activity_log_pages_by_date_and_key_at_any_depth(world, pair, client_for, monkeypatch):
    """Newest first by (date, key): Next from each page's edge row, Last, then Previous back, never OFFSET;
    equal dates are split across pages without a row lost or shown twice."""
    from pairing import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    days = [dt.date(2016, 10, 1), dt.date(2016, 10, 1), dt.date(2016, 10, 1), dt.date(2016, 11, 5), dt.date(2017, 3, 2)]
    made = [log(pair, "seminar", d) for d in days]
    want = [a.pk for a in sorted(made, key=lambda a: (a.held_on, a.pk), reverse=True)]
    c = client_for(world.officer_a)
    url = reverse("pairing:activity_list")
    seen, params = [], {}
    while True:
        page = c.get(url, params).context["page"]
        seen += [a.pk for a in page]
        if not page.has_next:
            break
        params = {"after": page.next_after}
    assert seen == want
    last = c.get(url, {"last": "1"}).context["page"]
    assert [a.pk for a in last] == want[-2:] and last.has_previous and not last.has_next
    back = c.get(url, {"before": last.previous_before}).context["page"]
    assert [a.pk for a in back] == want[-4:-2]
    assert c.get(url, {"after": "not-a-date.3"}).context["page"].has_previous is False  # a bad cursor: page one


def test_coverage_is_computed_once_until_an_agreement_or_a_school_changes(
    world, pair, client_for, django_assert_num_queries
):
    """The school aggregates are kept in the shared cache: a repeated view reads the stamps only; an agreement
    write (the twinning stamp) or a school's (the schools' and villages' stamp) shows new figures at once."""
    c = client_for(world.officer_a)
    url = reverse("pairing:coverage")
    before = c.get(url).context["city"]["key_paired"]
    with django_assert_num_queries(3):  # the user (its membership joined), the twinning stamp, the counties
        r = c.get(url)
    assert r.context["city"]["key_paired"] == before
    helped = SchoolFactory(
        county=world.county_a,
        is_weak=True,
        location=Location.RURAL,
        stage=Stage.PRIMARY,
        village=VillageFactory(town=world.town_a, poverty=Poverty.MUNICIPAL),
    )
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        helped.save()  # a new key-village school: counted, and listed as unpaired
    r = c.get(url)
    assert r.context["city"]["key_total"] == c.get(url).context["city"]["key_total"]
    assert helped.pk in [s.pk for s in r.context["page"]]
    with TestCase.captureOnCommitCallbacks(execute=True):
        agreement(world.strong_a, helped)
    r = c.get(url)
    assert helped.pk not in [s.pk for s in r.context["page"]]
    assert r.context["city"]["key_paired"] == before + 1
