"""Household and pupil imports: bad rows reported per row and column, all or nothing, re-import changes nothing."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from jinpin import idcard
from jinpin.scope import get_scope
from subsidies import importers
from subsidies.models import Enrolment, EnrolmentConflict, Household, HouseholdStatus, PaymentDetailChange, Student

pytestmark = [pytest.mark.django_db]

HH = [
    "number",
    "head_name",
    "head_id_number",
    "village_code",
    "members",
    "is_dibao",
    "is_tekun",
    "status",
    "status_date",
]
ST = [
    "id_number",
    "name",
    "sex",
    "birth_date",
    "household_number",
    "is_orphan",
    "is_disabled",
    "is_special_ed",
    "is_boarder",
    "is_dibao",
    "school_code",
    "school_year",
    "stage",
    "grade",
    "payee_name",
    "bank_account",
]


def xlsx(header, rows):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("f.xlsx", buf.getvalue())


def run(cls, user, header, rows):
    return importers.run(cls(scope=get_scope(user), user=user), xlsx(header, rows))


def col(cls, key):
    return str(next(c.header for c in cls.columns if c.key == key))


def kid(n, birth=dt.date(2008, 3, 1)):
    return idcard.make("370830", birth, n * 2 + 1, "M")


def test_households_bad_rows_then_good_then_again(places):
    w = places
    head = idcard.make("370830", dt.date(1975, 1, 1), 11, "M")
    bad = [
        ("H001", "王大", head, w.village_a.code, 4, "是", "否", "verified", dt.date(2016, 1, 15)),
        (
            "H002",
            "李二",
            head[:-1] + ("0" if head[-1] != "0" else "1"),
            w.village_a.code,
            3,
            "否",
            "否",
            "verified",
            dt.date(2016, 1, 15),
        ),
        ("H003", "张三", "", w.village_b.code, 0, "否", "否", "verified", dt.date(2016, 1, 15)),
    ]
    report = run(importers.HouseholdImporter, w.officer_a, HH, bad)
    assert not report.ok
    errors = {(e.row, e.column) for e in report.errors}
    H = importers.HouseholdImporter
    assert errors == {(3, col(H, "head_id_number")), (4, col(H, "village_code")), (4, col(H, "members"))}
    assert not Household.objects.exists()
    good = [bad[0], ("H002", "李二", "", w.village_a.code, 3, "否", "是", "verified", dt.date(2016, 1, 15))]
    report = run(importers.HouseholdImporter, w.officer_a, HH, good)
    assert report.ok and report.created == 2
    assert run(importers.HouseholdImporter, w.officer_a, HH, good).unchanged == 2
    lifted = [good[0], ("H002", "李二", "", w.village_a.code, 3, "否", "是", "lifted", dt.date(2016, 12, 1))]
    assert run(importers.HouseholdImporter, w.officer_a, HH, lifted).updated == 1
    h = Household.objects.get(number="H002")
    assert h.status_on(dt.date(2016, 9, 1)) == "verified" and h.status_on(dt.date(2016, 12, 1)) == "lifted"
    assert HouseholdStatus.objects.count() == 3


def test_pupils_bad_rows_double_enrolment_and_reimport(places):
    w = places
    Household.objects.create(number="H001", head_name="王大", village=w.village_a)
    rows = [
        (
            kid(1),
            "王小一",
            "M",
            dt.date(2008, 3, 1),
            "H001",
            "否",
            "否",
            "否",
            "是",
            "否",
            w.weak_a.code,
            2016,
            "primary",
            3,
            "王大",
            "6228000000000000001",
        ),
        (
            kid(2),
            "王小二",
            "",
            dt.date(2008, 3, 2),
            "",
            "否",
            "否",
            "否",
            "否",
            "否",
            w.weak_a.code,
            2016,
            "primary",
            3,
            "",
            "",
        ),
        (
            kid(3)[:-1] + "0" if kid(3)[-1] != "0" else kid(3)[:-1] + "1",
            "王小三",
            "",
            None,
            "",
            "否",
            "否",
            "否",
            "否",
            "否",
            w.weak_a.code,
            2016,
            "primary",
            3,
            "",
            "",
        ),
        (kid(4), "王小四", "", None, "H999", "否", "否", "否", "否", "否", w.weak_b.code, 2016, "primary", 3, "", ""),
    ]
    report = run(importers.StudentImporter, w.principal_a, ST, rows)
    errors = {(e.row, e.column) for e in report.errors}
    S = importers.StudentImporter
    assert (3, col(S, "birth_date")) in errors and (4, col(S, "id_number")) in errors
    assert (5, col(S, "household_number")) in errors and (
        5,
        col(S, "school_code"),
    ) in errors  # another school: not the principal's
    assert not Student.objects.exists()
    good = [
        rows[0],
        (kid(2), "王小二", "", None, "", "否", "否", "否", "否", "否", w.weak_a.code, 2016, "primary", 3, "", ""),
    ]
    assert run(importers.StudentImporter, w.principal_a, ST, good).created == 2
    again = run(importers.StudentImporter, w.principal_a, ST, good)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    s = Student.objects.get(id_number=kid(1))
    assert s.household.number == "H001" and s.is_boarder and s.birth_date == dt.date(2008, 3, 1) and s.sex == "M"
    # the same ID arriving from another school in the same year: refused, and kept as an anomaly
    other = [
        (kid(1), "王小一", "", None, "", "否", "否", "否", "否", "否", w.strong_a.code, 2016, "primary", 3, "", "")
    ]
    report = run(importers.StudentImporter, w.officer_a, ST, other)
    assert not report.ok and "汶上李庄小学" in report.errors[0].message  # names the school already enrolled at
    assert EnrolmentConflict.objects.filter(id_number=kid(1), school=w.strong_a, existing_school=w.weak_a).exists()
    assert Enrolment.objects.filter(student=s).count() == 1


def test_enrolment_model_refuses_two_schools_in_one_year(places):
    from django.core.exceptions import ValidationError

    w = places
    s = Student.objects.create(id_number=kid(5), name="甲", birth_date=dt.date(2008, 3, 1), sex="M")
    Enrolment.objects.create(student=s, school=w.weak_a, school_year=2016, stage="primary", grade=3)
    e = Enrolment(student=s, school=w.strong_a, school_year=2016, stage="primary", grade=3)
    with pytest.raises(ValidationError, match="2016") as exc:
        e.full_clean()
    assert "汶上李庄小学" not in str(exc.value)  # the model cannot know whether the reader may learn the school


def test_student_id_validation_birth_and_sex(places):
    from django.core.exceptions import ValidationError

    number = kid(6)
    Student(id_number=number, name="乙", birth_date=dt.date(2008, 3, 1), sex="M").full_clean()
    with pytest.raises(ValidationError) as exc:
        Student(id_number=number, name="乙", birth_date=dt.date(2008, 3, 2), sex="F").full_clean()
    assert {"birth_date", "sex"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError) as exc:
        Student(
            id_number=number[:-1] + ("0" if number[-1] != "0" else "1"),
            name="乙",
            birth_date=dt.date(2008, 3, 1),
            sex="M",
        ).full_clean()
    assert "id_number" in exc.value.message_dict


def test_import_pages(places, client_for):
    w = places
    assert client_for(w.principal_a).get(reverse("subsidies:import", args=["students"])).status_code == 200
    assert client_for(w.principal_a).get(reverse("subsidies:import", args=["households"])).status_code == 403
    assert client_for(w.auditor).get(reverse("subsidies:import", args=["students"])).status_code == 403
    r = client_for(w.officer_a).get(reverse("subsidies:import_template", args=["households"]))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    r = client_for(w.officer_a).post(
        reverse("subsidies:import", args=["households"]),
        {"file": xlsx(HH, [("H1", "王", "", w.village_a.code, 2, "否", "否", "verified", dt.date(2016, 1, 1))])},
    )
    assert r.status_code == 302 and Household.objects.filter(number="H1").exists()


def test_a_principal_cannot_enrol_or_rewrite_another_area_pupil_by_import(places):
    """A pupil of 泗水 (county B) in another county's roster: refused on the ID, whichever cells are filled
    (tests/subsidies/test_ownership.py has the whole attack and its variants)."""
    from .factories import household, pupil

    w = places
    child = pupil(
        w.weak_b, year=2015, bank_account="6228000000000000001", payee_name="母亲", household=household(w.village_b)
    )
    row = [
        child.id_number,
        child.name,
        "",
        "",
        "",
        "否",
        "否",
        "否",
        "否",
        "否",
        w.weak_a.code,
        2016,
        "primary",
        3,
        "张三",
        "6228999999999999999",
    ]
    for payee, account in (("张三", "6228999999999999999"), ("", "")):
        row[14], row[15] = payee, account
        report = run(importers.StudentImporter, w.principal_a, ST, [row])
        assert not report.ok
        assert {e.column for e in report.errors} == {col(importers.StudentImporter, "id_number")}
        assert "泗水" not in report.errors[0].message
    child.refresh_from_db()
    assert (child.bank_account, child.payee_name) == ("6228000000000000001", "母亲")
    assert not Enrolment.objects.filter(student=child, school=w.weak_a).exists()


def test_an_import_that_changes_a_pupil_leaves_before_and_after_in_the_audit_log(places):
    from django.contrib.contenttypes.models import ContentType

    from jinpin.audit import LogEntry

    w = places
    row = [
        kid(40),
        "赵六",
        "",
        "",
        "",
        "否",
        "否",
        "否",
        "否",
        "否",
        w.weak_a.code,
        2016,
        "primary",
        3,
        "赵母",
        "6228000000000000040",
    ]
    assert run(importers.StudentImporter, w.principal_a, ST, [row]).ok
    row[15], row[13] = "6228000000000000041", 4
    report = run(importers.StudentImporter, w.principal_a, ST, [row])
    assert report.ok and report.updated == 1
    student = Student.objects.get(id_number=kid(40))
    # the account is not changed by the import: it becomes a change request that a second person confirms
    assert student.bank_account == "6228000000000000040"
    change = PaymentDetailChange.objects.get(student=student, status="pending")
    entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(PaymentDetailChange),
        object_pk=str(change.pk),
        action=LogEntry.Action.CREATE,
    )
    assert entry.actor == w.principal_a and entry.changes == {
        "payee_name": ["赵母", "赵母"],
        "bank_account": ["6228000000000000040", "6228000000000000041"],
    }
    assert (
        run(importers.StudentImporter, w.principal_a, ST, [row]).unchanged == 1
    )  # the same file again: no second request
    assert PaymentDetailChange.objects.filter(student=student).count() == 1
    enrolment = Enrolment.objects.get(student=student)
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(Enrolment), object_pk=str(enrolment.pk))
    assert entry.changes == {"grade": ["3", "4"]}


def test_reimporting_an_older_register_does_not_duplicate_the_status_history(places):
    w = places
    rows = [("H100", "王大", "", w.village_a.code, 4, "否", "否", "verified", dt.date(2016, 1, 15))]
    assert run(importers.HouseholdImporter, w.officer_a, HH, rows).created == 1
    h = Household.objects.get(number="H100")
    HouseholdStatus.objects.create(household=h, status="lifted", effective_on=dt.date(2016, 9, 1), reason="稳定脱贫")
    report = run(importers.HouseholdImporter, w.officer_a, HH, rows)  # the office sends the January register again
    assert report.ok and (report.updated, report.unchanged) == (0, 1)
    assert list(h.statuses.order_by("effective_on").values_list("status", flat=True)) == ["verified", "lifted"]
