"""Who may change a pupil's record and bank account (issue 8, section 1).

The attack as found: a principal of county A imports, for a pupil enrolled in county B, an enrolment in a later
school year (one without an enrolment), then imports the same row again with a new payee and bank account; county
B's next payout batch copies the new account. Every variant here must be refused with nothing changed and nothing
written, and a refusal must never say where the pupil is enrolled.
"""

from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from jinpin.audit import LogEntry
from jinpin.scope import get_scope
from subsidies import importers, scoping, tasks
from subsidies.exporters import BankFileExporter
from subsidies.models import (
    Award,
    AwardStatus,
    Enrolment,
    EnrolmentConflict,
    PaymentDetailChange,
    PupilTransfer,
    Scheme,
    Student,
)
from subsidies.services import payouts, transfers
from subsidies.services.anomalies import duplicate_enrolments
from subsidies.services.registry import enrolments_promote, student_update

from .factories import household, pupil
from .test_imports import ST, col, run

pytestmark = [pytest.mark.django_db]

ACCOUNT_B = "6228000000000000001"
ATTACKER_ACCOUNT = "6228999999999999999"


@pytest.fixture
def victim(places):
    """A pupil of 泗水 (county B), enrolled at 泗水王庄小学 in 2016 only, with a verified household and an account."""
    w = places
    return pupil(
        w.weak_b,
        year=2016,
        payee_name="母亲",
        bank_account=ACCOUNT_B,
        household=household(w.village_b, ("verified", "2016-01-15")),
    )


def row_for(student, school, year, payee="", account="", household_number=""):
    return [
        student.id_number,
        student.name,
        "",
        "",
        household_number,
        "否",
        "否",
        "否",
        "否",
        "否",
        school.code,
        year,
        "primary",
        3,
        payee,
        account,
    ]


def table_counts(exclude=()):
    """Rows of every subsidies table, and of the audit log."""
    counts = {m.__name__: m.objects.count() for m in apps.get_app_config("subsidies").get_models() if m not in exclude}
    counts["LogEntry"] = LogEntry.objects.count()
    return counts


def snapshot(student):
    s = Student.objects.get(pk=student.pk)
    enrolments = list(Enrolment.objects.filter(student=s).values_list("school_id", "school_year", "stage", "grade"))
    return (s.name, s.household_id, s.payee_name, s.bank_account, s.is_boarder, sorted(enrolments))


def assert_says_nothing_of_where(report, w):
    for e in report.errors:
        for name in (w.weak_b.name, w.strong_b.name, w.county_b.name, "2016"):
            assert name not in e.message, e.message


# -- the attack, exactly ----------------------------------------------------------------------------------
def test_the_attack_principal_other_county_later_year_then_payee_and_account(places, victim, period):
    w = places
    award = Award.objects.create(
        student=victim,
        scheme=Scheme.objects.get(code="nutrition"),
        period=period,
        school=w.weak_b,
        county=w.county_b,
        amount=Decimal("600.00"),
        rate_version=Scheme.objects.get(code="nutrition").rates.get(),
        facts={},
        status=AwardStatus.APPROVED,
    )
    before, counts = snapshot(victim), table_counts(exclude=[EnrolmentConflict])
    # step 1: an enrolment at the principal's school in 2017, a year in which the pupil has none
    report = run(importers.StudentImporter, w.principal_a, ST, [row_for(victim, w.weak_a, 2017)])
    assert not report.ok
    assert [(e.row, e.column) for e in report.errors] == [(2, col(importers.StudentImporter, "id_number"))]
    assert_says_nothing_of_where(report, w)
    # step 2: the same row with a new payee and account
    report = run(
        importers.StudentImporter,
        w.principal_a,
        ST,
        [row_for(victim, w.weak_a, 2017, payee="张三", account=ATTACKER_ACCOUNT, household_number="")],
    )
    assert not report.ok and {e.column for e in report.errors} == {col(importers.StudentImporter, "id_number")}
    assert_says_nothing_of_where(report, w)
    assert snapshot(victim) == before and table_counts(exclude=[EnrolmentConflict]) == counts
    # county B's payout batch pays the account county B has on file
    batch = payouts.payout_prepare(
        county=w.county_b,
        period=period,
        funding_source=award.scheme.funding_source,
        acting_user=w.officer_b,
        scope=get_scope(w.officer_b),
    )
    assert list(batch.lines.values_list("bank_account", "payee_name")) == [(ACCOUNT_B, "母亲")]


def test_the_same_attack_by_the_county_officer(places, victim):
    w = places
    before, counts = snapshot(victim), table_counts(exclude=[EnrolmentConflict])
    for year in (2017, 2015, 2016):  # later, earlier, the same year: an enrolment never makes the pupil one's own
        rows = [row_for(victim, w.strong_a, year, payee="张三", account=ATTACKER_ACCOUNT)]
        report = run(importers.StudentImporter, w.officer_a, ST, rows)
        assert not report.ok and {e.column for e in report.errors} == {col(importers.StudentImporter, "id_number")}
        assert_says_nothing_of_where(report, w)
    assert snapshot(victim) == before and table_counts(exclude=[EnrolmentConflict]) == counts


def test_a_refused_import_writes_nothing_and_only_the_city_sees_the_attempt(places, victim, client_for):
    w = places
    mine = pupil(w.weak_a, year=2016)
    counts = table_counts(exclude=[EnrolmentConflict])
    conflicts = EnrolmentConflict.objects.count()
    # a file with one good row (a new pupil), one own pupil changed, and the foreign pupil: all refused
    new_row = row_for(mine, w.weak_a, 2016)
    new_row[0] = "370830200803010017"
    from jinpin import idcard

    new_row[0] = idcard.make("370830", __import__("datetime").date(2008, 3, 1), 77, "M")
    own = row_for(mine, w.weak_a, 2016)
    own[1] = "改了名字"
    report = run(importers.StudentImporter, w.principal_a, ST, [new_row, own, row_for(victim, w.weak_a, 2017)])
    assert not report.ok and [e.row for e in report.errors] == [4]
    assert table_counts(exclude=[EnrolmentConflict]) == counts
    assert Student.objects.get(pk=mine.pk).name != "改了名字"
    # the city's record of the attempt, written after the refusal, in its own transaction
    assert EnrolmentConflict.objects.count() == conflicts + 1
    c = EnrolmentConflict.objects.get()
    assert (c.kind, c.school, c.existing_school) == (EnrolmentConflict.Kind.OWNED_ELSEWHERE, w.weak_a, w.weak_b)
    for user in (w.principal_a, w.officer_a, w.officer_b, w.principal_b, w.inspector):
        assert not get_scope(user).filter(EnrolmentConflict).exists()
    for user in (w.admin, w.auditor):
        assert get_scope(user).filter(EnrolmentConflict).count() == 1


def test_the_anomaly_report_shows_conflicts_to_the_city_only(places, victim, period):
    w = places
    run(importers.StudentImporter, w.principal_a, ST, [row_for(victim, w.weak_a, 2016)])
    assert len(list(duplicate_enrolments(get_scope(w.auditor), period))) == 1
    for user in (w.officer_a, w.officer_b):
        assert list(duplicate_enrolments(get_scope(user), period)) == []


def test_a_former_school_cannot_change_a_pupil_who_moved_on(places):
    """Enrolled at the principal's school in 2015, at county B's school in 2016: the 2015 enrolment grants nothing."""
    w = places
    moved = pupil(w.weak_a, year=2015, payee_name="父亲", bank_account="6228000000000000077")
    Enrolment.objects.create(student=moved, school=w.weak_b, school_year=2016, stage="primary", grade=4)
    before = snapshot(moved)
    for rows in (
        [row_for(moved, w.weak_a, 2015, payee="张三", account=ATTACKER_ACCOUNT)],
        [row_for(moved, w.weak_a, 2017)],
    ):
        report = run(importers.StudentImporter, w.principal_a, ST, rows)
        assert not report.ok and {e.column for e in report.errors} == {col(importers.StudentImporter, "id_number")}
    assert snapshot(moved) == before
    assert get_scope(w.principal_a).filter(Student).filter(pk=moved.pk).exists()  # still read: its own history
    assert not scoping.can_change_student(get_scope(w.principal_a), moved)
    assert scoping.can_change_student(get_scope(w.principal_b), moved)
    assert scoping.can_change_student(get_scope(w.officer_b), moved)
    assert not scoping.can_change_student(get_scope(w.officer_a), moved)


# -- forms, bulk actions, tasks --------------------------------------------------------------------------
def test_forged_form_posts_change_nothing(places, client_for):
    w = places
    moved = pupil(w.weak_a, year=2015, payee_name="父亲", bank_account="6228000000000000077")
    Enrolment.objects.create(student=moved, school=w.weak_b, school_year=2016, stage="primary", grade=4)
    victim = pupil(w.weak_b, year=2016)
    before, counts = snapshot(moved), table_counts()
    c = client_for(w.principal_a)
    page = c.get(reverse("subsidies:student_detail", args=[moved.pk]))
    assert (
        page.status_code == 200 and b"student-form" not in page.content and b"6228000000000000077" not in page.content
    )
    edit = {"name": "改名", "household_number": "", "is_boarder": "on"}
    assert c.post(reverse("subsidies:student_edit", args=[moved.pk]), edit).status_code == 403
    pay = {"payee": "张三", "account": ATTACKER_ACCOUNT, "reason": "家长要求"}
    assert c.post(reverse("subsidies:payment_change_request", args=[moved.pk]), pay).status_code == 403
    # a county A officer: same; county B's pupil who never was in county A: not even found
    for user, student, status in ((w.officer_a, moved, 403), (w.officer_a, victim, 404), (w.principal_a, victim, 404)):
        r = client_for(user).post(reverse("subsidies:student_edit", args=[student.pk]), edit)
        assert r.status_code == status
        r = client_for(user).post(reverse("subsidies:payment_change_request", args=[student.pk]), pay)
        assert r.status_code == status
    assert client_for(w.auditor).post(reverse("subsidies:student_edit", args=[moved.pk]), edit).status_code == 403
    assert snapshot(moved) == before and table_counts() == counts
    # the owning side may
    r = client_for(w.principal_b).post(reverse("subsidies:student_edit", args=[moved.pk]), edit)
    assert r.status_code == 302 and Student.objects.get(pk=moved.pk).name == "改名"
    with pytest.raises(PermissionDenied):
        student_update(student=moved, acting_user=w.principal_a, scope=get_scope(w.principal_a), name="又改")


def test_bulk_action_with_a_forged_id_is_refused_whole(places, victim, client_for, django_capture_on_commit_callbacks):
    w = places
    mine = pupil(w.weak_a, year=2016, grade=3)
    counts = table_counts()
    c = client_for(w.principal_a)
    url = reverse("subsidies:students_promote")
    assert c.post(url, {"ids": [mine.pk, victim.pk], "from_year": 2016}).status_code == 403
    assert c.post(url, {"ids": [victim.pk], "from_year": 2016}).status_code == 403
    assert client_for(w.officer_a).post(url, {"ids": [victim.pk], "from_year": 2016}).status_code == 403
    assert table_counts() == counts
    with pytest.raises(PermissionDenied):
        enrolments_promote(
            student_ids=[mine.pk, victim.pk], from_year=2016, acting_user=w.officer_a, scope=get_scope(w.officer_a)
        )
    assert table_counts() == counts
    # the user's own pupils only: enrolled for 2017 at the same school, one grade up (queued after commit)
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(url, {"ids": [mine.pk], "from_year": 2016})
    assert r.status_code == 302
    assert Enrolment.objects.filter(student=mine, school_year=2017, school=w.weak_a, grade=4).exists()
    assert not Enrolment.objects.filter(student=victim, school_year=2017).exists()


def test_the_celery_task_rechecks_ownership(places, victim):
    w = places
    before, counts = snapshot(victim), table_counts()
    assert tasks.students_promote.delay(w.principal_a.pk, [victim.pk], 2016).get() == 0
    assert tasks.students_promote.delay(w.officer_a.pk, [victim.pk], 2016).get() == 0
    assert snapshot(victim) == before and table_counts() == counts
    # a principal whose membership is gone has no scope on the worker
    w.principal_b.membership.is_active = False
    w.principal_b.membership.save()
    assert tasks.students_promote.delay(w.principal_b.pk, [victim.pk], 2016).get() == 0
    assert tasks.students_promote.delay(w.officer_b.pk, [victim.pk], 2016).get() == 1


def test_the_celery_task_on_a_real_worker(celery_worker_process, world):
    """The task on a real worker re-checks ownership: a selection with a pupil of another county writes nothing."""
    import time

    w = world
    victim = pupil(w.weak_b, year=2016)
    mine = pupil(w.weak_a, year=2016)
    tasks.students_promote.delay(w.principal_a.pk, [mine.pk, victim.pk], 2016)
    tasks.students_promote.delay(w.officer_a.pk, [victim.pk], 2016)
    time.sleep(3)  # no result backend: give the refused tasks time to run (and, wrongly, to write)
    tasks.students_promote.delay(w.principal_a.pk, [mine.pk], 2016)
    deadline = time.monotonic() + 60
    while not Enrolment.objects.filter(school_year=2017).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    assert list(Enrolment.objects.filter(school_year=2017).values_list("student_id", flat=True)) == [mine.pk]


# -- 转学 ----------------------------------------------------------------------------------------------------
def _request(user, student, to_school, year=2017, **kw):
    return transfers.transfer_request(
        student=student,
        to_school=to_school,
        school_year=year,
        stage="primary",
        grade=4,
        reason=kw.pop("reason", "随父母务工迁居"),
        acting_user=user,
        scope=get_scope(user),
        **kw,
    )


def test_transfer_between_counties_needs_the_city(places, victim, period, client_for):
    w = places
    award = Award.objects.create(
        student=victim,
        scheme=Scheme.objects.get(code="nutrition"),
        period=period,
        school=w.weak_b,
        county=w.county_b,
        amount=Decimal("600.00"),
        rate_version=Scheme.objects.get(code="nutrition").rates.get(),
        facts={},
    )
    # who may ask: the receiving school's principal or county office; not a principal for another school
    with pytest.raises(PermissionDenied):
        _request(w.principal_a, victim, w.strong_a)
    with pytest.raises(PermissionDenied):
        _request(w.auditor, victim, w.weak_a)
    t = _request(w.principal_a, victim, w.weak_a)
    with pytest.raises(ValidationError):
        _request(w.officer_a, victim, w.strong_a)  # one pending request per pupil
    # the receiving side does not learn where the pupil comes from, and changes nothing yet
    page = client_for(w.principal_a).get(reverse("subsidies:transfer_list"))
    assert page.status_code == 200 and w.weak_b.name not in page.content.decode()
    assert not scoping.can_change_student(get_scope(w.principal_a), victim)
    report = run(
        importers.StudentImporter, w.principal_a, ST, [row_for(victim, w.weak_a, 2017, account=ATTACKER_ACCOUNT)]
    )
    assert not report.ok
    # who confirms: for a move between counties only the city administrator -- not the sending county, not the
    # receiving county, not the schools
    for user in (w.officer_b, w.officer_a, w.principal_b, w.principal_a, w.auditor, w.inspector):
        assert not scoping.can_decide_transfer(get_scope(user), t, user.pk)
        with pytest.raises((PermissionDenied, ValidationError)):
            transfers.transfer_confirm(transfer=t, acting_user=user, scope=get_scope(user))
    r = client_for(w.officer_b).post(reverse("subsidies:transfer_decide", args=[t.pk]), {"decision": "confirm"})
    assert r.status_code == 403
    assert snapshot(victim)[-1] == [(w.weak_b.pk, 2016, "primary", 3)]
    r = client_for(w.admin).post(reverse("subsidies:transfer_decide", args=[t.pk]), {"decision": "confirm"})
    assert r.status_code == 302
    t.refresh_from_db()
    assert t.status == "confirmed" and t.decided_by == w.admin
    assert Enrolment.objects.filter(student=victim, school=w.weak_a, school_year=2017, grade=4).exists()
    # the record passes to the receiving school; the award stays with its period and school
    assert scoping.can_change_student(get_scope(w.principal_a), victim)
    assert not scoping.can_change_student(get_scope(w.principal_b), victim)
    assert not scoping.can_change_student(get_scope(w.officer_b), victim)
    award.refresh_from_db()
    assert (award.school_id, award.county_id, award.period_id) == (w.weak_b.pk, w.county_b.pk, period.pk)
    assert (
        LogEntry.objects.filter(
            object_pk=str(t.pk), additional_data__event__in=["transfer_request", "transfer_confirm"]
        ).count()
        == 2
    )
    with pytest.raises(ValidationError):
        transfers.transfer_confirm(transfer=t, acting_user=w.admin, scope=get_scope(w.admin))


def test_transfer_inside_a_county_is_confirmed_by_its_office_not_by_the_one_who_asked(places, client_for):
    w = places
    child = pupil(w.weak_a, year=2016)
    t = _request(w.principal_strong_a, child, w.strong_a, year=2016)
    assert not scoping.can_decide_transfer(get_scope(w.officer_b), t, w.officer_b.pk)
    assert (
        client_for(w.officer_b)
        .post(reverse("subsidies:transfer_decide", args=[t.pk]), {"decision": "confirm"})
        .status_code
        == 404
    )
    with pytest.raises(PermissionDenied):
        transfers.transfer_confirm(transfer=t, acting_user=w.principal_a, scope=get_scope(w.principal_a))
    transfers.transfer_reject(transfer=t, acting_user=w.officer_a, scope=get_scope(w.officer_a), note="学籍材料不全")
    assert PupilTransfer.objects.get(pk=t.pk).status == "rejected"
    # the county office asks itself: another person confirms (here the city administrator)
    t2 = _request(w.officer_a, child, w.strong_a, year=2016)
    with pytest.raises(ValidationError):
        transfers.transfer_confirm(transfer=t2, acting_user=w.officer_a, scope=get_scope(w.officer_a))
    transfers.transfer_confirm(transfer=t2, acting_user=w.admin, scope=get_scope(w.admin))
    # a move in the same school year moves that year's enrolment
    assert list(Enrolment.objects.filter(student=child).values_list("school_id", "school_year")) == [
        (w.strong_a.pk, 2016)
    ]


def test_transfer_request_form_tells_nothing_of_where(places, victim, client_for):
    w = places
    c = client_for(w.principal_a)
    url = reverse("subsidies:transfer_create")
    data = {
        "id_number": victim.id_number,
        "name": "别的名字",
        "to_school": w.weak_a.pk,
        "school_year": 2017,
        "stage": "primary",
        "grade": 4,
        "reason": "迁居",
    }
    wrong_name = c.post(url, data).context["form"].errors["id_number"]
    from jinpin import idcard

    unknown = c.post(url, dict(data, id_number=idcard.make("370831", victim.birth_date, 401, "M"))).context["form"]
    assert wrong_name == unknown.errors["id_number"]
    assert not PupilTransfer.objects.exists()
    forged = c.post(url, dict(data, name=victim.name, to_school=w.strong_a.pk))  # not the principal's school
    assert forged.status_code == 200 and "to_school" in forged.context["form"].errors
    r = c.post(url, dict(data, name=victim.name))
    assert r.status_code == 302 and PupilTransfer.objects.get().to_school == w.weak_a
    assert client_for(w.auditor).get(url).status_code == 403


# -- payee and bank account: four eyes -------------------------------------------------------------------
def test_payment_change_needs_a_second_person_of_the_owning_side(places):
    w = places
    child = pupil(w.weak_a, year=2016, payee_name="母亲", bank_account="6228000000000000050")
    with pytest.raises(PermissionDenied):
        transfers.payment_change_request(
            student=child,
            payee="张三",
            account=ATTACKER_ACCOUNT,
            reason="x",
            acting_user=w.principal_b,
            scope=get_scope(w.principal_b),
        )
    change = transfers.payment_change_request(
        student=child,
        payee="父亲",
        account="6228000000000000051",
        reason="母亲外出务工，改由父亲领取",
        acting_user=w.principal_a,
        scope=get_scope(w.principal_a),
    )
    assert Student.objects.get(pk=child.pk).bank_account == "6228000000000000050"
    with pytest.raises(ValidationError, match="four eyes|双人复核"):
        transfers.payment_change_confirm(change=change, acting_user=w.principal_a, scope=get_scope(w.principal_a))
    for other in (w.officer_b, w.principal_b):
        with pytest.raises(PermissionDenied):
            transfers.payment_change_confirm(change=change, acting_user=other, scope=get_scope(other))
    with pytest.raises(PermissionDenied):
        transfers.payment_change_confirm(change=change, acting_user=w.auditor, scope=get_scope(w.auditor))
    assert Student.objects.get(pk=child.pk).bank_account == "6228000000000000050"
    transfers.payment_change_confirm(change=change, acting_user=w.officer_a, scope=get_scope(w.officer_a))
    child.refresh_from_db()
    change.refresh_from_db()
    assert (child.payee_name, child.bank_account) == ("父亲", "6228000000000000051")
    assert (change.status, change.confirmed_by, change.requested_by) == ("confirmed", w.officer_a, w.principal_a)
    events = set(LogEntry.objects.filter(object_pk=str(change.pk)).values_list("additional_data__event", flat=True))
    assert events == {"payment_change_request", "payment_change_confirm"}
    assert LogEntry.objects.filter(
        object_pk=str(child.pk), changes__bank_account=["6228000000000000050", "6228000000000000051"]
    ).exists()
    # the database refuses a self-confirmed change, whatever code writes it
    other = PaymentDetailChange.objects.create(
        student=child, new_payee="甲", new_account="62280000000000000", reason="r", requested_by=w.officer_a
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentDetailChange.objects.filter(pk=other.pk).update(confirmed_by=w.officer_a)


def test_payment_change_pages(places, client_for):
    w = places
    child = pupil(w.weak_a, year=2016, payee_name="母亲", bank_account="6228000000000000060")
    c = client_for(w.principal_a)
    r = c.post(
        reverse("subsidies:payment_change_request", args=[child.pk]),
        {"payee": "父亲", "account": "6228000000000000061", "reason": "家长要求"},
    )
    assert r.status_code == 302
    change = PaymentDetailChange.objects.get()
    page = c.get(reverse("subsidies:student_detail", args=[child.pk])).content.decode()
    assert "pending-change" in page and 'value="confirm"' not in page  # the one who asked sees no confirm button
    c.post(reverse("subsidies:payment_change_decide", args=[change.pk]), {"decision": "confirm"})
    assert PaymentDetailChange.objects.get().status == "pending"
    assert (
        client_for(w.officer_b)
        .post(reverse("subsidies:payment_change_decide", args=[change.pk]), {"decision": "confirm"})
        .status_code
        == 404
    )
    page = client_for(w.officer_a).get(reverse("subsidies:student_detail", args=[child.pk])).content.decode()
    assert 'value="confirm"' in page
    client_for(w.officer_a).post(reverse("subsidies:payment_change_decide", args=[change.pk]), {"decision": "confirm"})
    assert Student.objects.get(pk=child.pk).bank_account == "6228000000000000061"


def test_an_import_asks_for_a_change_and_never_makes_it(places):
    w = places
    child = pupil(w.weak_a, year=2016, payee_name="母亲", bank_account="6228000000000000070")
    report = run(
        importers.StudentImporter,
        w.principal_a,
        ST,
        [row_for(child, w.weak_a, 2016, payee="父亲", account="6228000000000000071")],
    )
    assert report.ok and report.updated == 1
    assert Student.objects.get(pk=child.pk).bank_account == "6228000000000000070"
    change = PaymentDetailChange.objects.get(student=child)
    assert (change.status, change.source, change.requested_by) == ("pending", "import", w.principal_a)
    # another file with another account while one waits: refused
    report = run(
        importers.StudentImporter,
        w.principal_a,
        ST,
        [row_for(child, w.weak_a, 2016, payee="父亲", account="6228000000000000072")],
    )
    assert not report.ok and report.errors[0].column == col(importers.StudentImporter, "bank_account")


def test_the_payout_batch_pays_the_confirmed_account_and_the_bank_file_says_when_it_changed(places, period):
    w = places
    scheme = Scheme.objects.get(code="nutrition")
    kids = [pupil(w.weak_a, year=2016, payee_name="母亲", bank_account=f"62280000000000008{i}") for i in range(2)]
    for k in kids:
        Award.objects.create(
            student=k,
            scheme=scheme,
            period=period,
            school=w.weak_a,
            county=w.county_a,
            amount=Decimal("600.00"),
            rate_version=scheme.rates.get(),
            facts={},
            status=AwardStatus.APPROVED,
        )
    confirmed = transfers.payment_change_request(
        student=kids[0],
        payee="父亲",
        account="6228000000000000090",
        reason="r",
        acting_user=w.principal_a,
        scope=get_scope(w.principal_a),
    )
    transfers.payment_change_confirm(change=confirmed, acting_user=w.officer_a, scope=get_scope(w.officer_a))
    transfers.payment_change_request(
        student=kids[1],
        payee="张三",
        account=ATTACKER_ACCOUNT,
        reason="r",
        acting_user=w.principal_a,
        scope=get_scope(w.principal_a),
    )
    batch = payouts.payout_prepare(
        county=w.county_a,
        period=period,
        funding_source=scheme.funding_source,
        acting_user=w.officer_a,
        scope=get_scope(w.officer_a),
    )
    lines = dict(batch.lines.values_list("award__student_id", "bank_account"))
    assert lines == {kids[0].pk: "6228000000000000090", kids[1].pk: "622800000000000081"}
    exporter = BankFileExporter(get_scope(w.officer_a), {"batch": batch.pk})
    headers = [str(c.header) for c in exporter.columns]
    i = next(n for n, h in enumerate(headers) if "Account last changed" in h or "账户最近变更" in h)
    changed = {r[3]: r[i] for r in exporter.rows()}
    confirmed.refresh_from_db()
    assert changed[kids[0].id_number] == confirmed.confirmed_at
    assert changed[kids[1].id_number] == Student.objects.get(pk=kids[1].pk).created_at


# -- the pages ------------------------------------------------------------------------------------------------
def test_request_pages_run_a_constant_number_of_queries(places, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = places

    def queries(user, url):
        c = client_for(user)
        c.get(url)  # warm the session and the scope
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        return len(ctx)

    def add(n):
        for _i in range(n):
            child = pupil(w.weak_a, year=2016)
            _request(w.principal_strong_a, child, w.strong_a)
            transfers.payment_change_request(
                student=child,
                payee="父亲",
                account="6228000000000000099",
                reason="r",
                acting_user=w.principal_a,
                scope=get_scope(w.principal_a),
            )

    add(1)
    urls = [reverse("subsidies:transfer_list"), reverse("subsidies:payment_change_list")]
    users = [w.admin, w.officer_a, w.principal_a, w.principal_strong_a, w.auditor]
    first = {(u.pk, url): queries(u, url) for u in users for url in urls}
    add(4)
    assert {(u.pk, url): queries(u, url) for u in users for url in urls} == first
    page = client_for(w.officer_a).get(urls[0]).content.decode()
    assert page.count('value="confirm"') == 5  # the sending county office acts on each
    assert client_for(w.principal_strong_a).get(urls[0]).content.decode().count('value="confirm"') == 0
    assert client_for(w.officer_b).get(urls[0]).content.decode().count(w.weak_a.name) == 0
    assert client_for(w.inspector).get(urls[1]).status_code == 200
