"""Demo data for 精准救助: poor households and pupils in the demo villages and schools.

``seed_subsidies(stdout, scale)``: with scale 0, a few thousand households and pupils
so that every scheme has eligible pupils, a few anomalies, and the 2016–2017 year
taken from batch to paid in every county. With ``--scale N``, N × 30,000 households and
N × 100,000 students (with enrolments) written with COPY. Idempotent.
"""

from __future__ import annotations

import datetime as dt
import io
import random

from django.db import connection
from django.utils import timezone

from jinpin import idcard, pagecache
from schools.models import County, Location, Poverty, School, Stage, Village

from .models import Enrolment, Household, HouseholdStatus, Period, Student

DEMO_PREFIX = "D"  # demo household numbers
SCALE_PREFIX = "SC"  # synthetic household numbers
SCALE_AREA = 379000  # synthetic students' ID area codes start here (no real Jining code)
YEAR = 2016
DECISIVE = dt.date(2016, 9, 1)
# The report (2016-09-26) publishes, "as of today": 48.14 million yuan allocated to schools of all kinds and
# 7,864 pupils from hardship families in poor villages aided. The demo city is sized to give more eligible
# pupils than that; the schools have applied for exactly enough of them by the report's date (the rest are
# still candidates, which the principals' home pages list), and the city's budget for the year is the
# report's sum, split over schemes and counties in proportion to what their awards need.
REPORT_DATE = dt.date(2016, 9, 26)
REPORT_AIDED = 7864
REPORT_ALLOCATED = 48_140_000
HOUSEHOLDS_PER_VILLAGE = 6
AGE_AT_GRADE_1 = {
    Stage.KINDERGARTEN: 3,
    Stage.PRIMARY: 6,
    Stage.JUNIOR: 12,
    Stage.SENIOR: 15,
    Stage.VOCATIONAL: 15,
    Stage.SPECIAL: 7,
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "子涵 欣怡 梓萱 浩然 宇轩 一诺 思远 雨桐 俊杰 佳怡 明轩 紫涵 博文 诗琪 皓轩 梦瑶 文博 晨曦 嘉怡 天佑".split()


def seed_subsidies(stdout, scale):
    _seed_demo(stdout)
    if scale:
        seed_scale(stdout, scale)


def _name(rnd):
    return rnd.choice(SURNAMES) + rnd.choice(GIVEN)


def _stage_of(school_stage: str, grade: int) -> str:
    if school_stage == Stage.NINE_YEAR:
        return Stage.PRIMARY if grade <= 6 else Stage.JUNIOR
    return school_stage


def _birth(stage: str, grade: int, day: int) -> dt.date:
    age = AGE_AT_GRADE_1.get(stage, 6) + grade - 1
    return dt.date(YEAR - age - 1, 9, 2) + dt.timedelta(days=day % 365)


# -- the demo city -------------------------------------------------------------------
def _demo_extra_schools():
    """A vocational school and a special-education school in 汶上县 (the report names both stages)."""
    county = County.objects.filter(code="370830").first()
    if county is None:
        return []
    out = []
    for code, name, stage in (
        ("0830099901", "汶上县职业中等专业学校", Stage.VOCATIONAL),
        ("0830099902", "汶上县特殊教育学校", Stage.SPECIAL),
    ):
        school, _ = School.objects.get_or_create(
            code=code,
            defaults={"name": name, "county": county, "stage": stage, "location": Location.COUNTY_TOWN, "pupils": 300},
        )
        out.append(school)
    return out


def _seed_demo(stdout):
    if Household.objects.filter(number__startswith=DEMO_PREFIX).exists():
        stdout.write(
            f"  subsidies demo already there: {Household.objects.count()} households, {Student.objects.count()} students"
        )
        return
    rnd = random.Random(2016)
    _demo_extra_schools()
    villages = list(Village.objects.filter(code__startswith="3708").exclude(poverty=Poverty.NONE).order_by("code"))
    if not villages:
        return
    households, statuses = [], []
    for v in villages:
        for k in range(HOUSEHOLDS_PER_VILLAGE):
            households.append(
                Household(
                    number=f"{DEMO_PREFIX}{v.code}{k}",
                    head_name=_name(rnd),
                    village=v,
                    members=rnd.randint(2, 6),
                    is_dibao=rnd.random() < 0.25,
                    is_tekun=rnd.random() < 0.08,
                )
            )
    Household.objects.bulk_create(households)
    households = list(
        Household.objects.filter(number__startswith=DEMO_PREFIX).select_related("village").order_by("number")
    )
    for i, h in enumerate(households):
        statuses.append(HouseholdStatus(household=h, status="identified", effective_on=dt.date(2015, 10, 10)))
        if i % 29 == 5:
            continue  # never verified: an award to it is an anomaly
        statuses.append(
            HouseholdStatus(
                household=h, status="verified", effective_on=dt.date(2016, 1, 15), reason="回头看、六核对一规范"
            )
        )
        if i % 13 == 3:
            statuses.append(
                HouseholdStatus(household=h, status="lifted", effective_on=dt.date(2016, 6, 30), reason="稳定脱贫")
            )
        elif i % 17 == 4:
            statuses.append(
                HouseholdStatus(household=h, status="lifted", effective_on=dt.date(2016, 12, 31), reason="稳定脱贫")
            )
        elif i % 31 == 6:
            statuses.append(HouseholdStatus(household=h, status="lifted", effective_on=dt.date(2016, 3, 1)))
            statuses.append(
                HouseholdStatus(household=h, status="returned", effective_on=dt.date(2016, 7, 1), reason="因病返贫")
            )
    HouseholdStatus.objects.bulk_create(statuses)
    by_county: dict[int, list] = {}
    for h in households:
        by_county.setdefault(h.village.county_id, []).append(h)
    per_stage = {
        Stage.KINDERGARTEN: 15,
        Stage.PRIMARY: 25,
        Stage.JUNIOR: 25,
        Stage.NINE_YEAR: 25,
        Stage.SENIOR: 30,
        Stage.VOCATIONAL: 30,
        Stage.SPECIAL: 20,
    }
    students, enrol = [], []
    seq = 0
    for school in School.objects.filter(code__startswith="0").select_related("county").order_by("code"):
        pool = by_county.get(school.county_id) or households
        for k in range(per_stage[school.stage]):
            seq += 1
            grade = 1 + k % (
                3 if school.stage == Stage.KINDERGARTEN else 6 if school.stage in (Stage.PRIMARY, Stage.SPECIAL) else 3
            )
            stage = _stage_of(school.stage, grade)
            birth = _birth(stage, grade, seq * 7)
            if school.stage == Stage.KINDERGARTEN and k == 5:
                birth = dt.date(2010, 9, 1)  # turned 6 on the decisive date: no preschool aid
            sex = "M" if seq % 2 else "F"
            number = idcard.make(school.county.code, birth, seq % 1000, sex)
            orphan = seq % 37 == 0
            students.append(
                Student(
                    id_number=number,
                    name=_name(rnd),
                    birth_date=birth,
                    sex=sex,
                    household=None if orphan or seq % 19 == 0 else pool[seq % len(pool)],
                    is_orphan=orphan,
                    is_disabled=seq % 41 == 0,
                    is_special_ed=school.stage == Stage.SPECIAL or seq % 53 == 0,
                    is_boarder=school.location == Location.RURAL and seq % 3 == 0,
                    is_dibao=seq % 19 == 0,
                    payee_name=_name(rnd),
                    bank_account=f"622848{seq:013d}",
                )
            )
            enrol.append((number, school, stage, grade))
    # IDs must be unique: the sequence part repeats every 1,000 pupils, so drop the rare clash
    seen, keep = set(), []
    for s, e in zip(students, enrol, strict=False):
        if s.id_number not in seen:
            seen.add(s.id_number)
            keep.append((s, e))
    Student.objects.bulk_create([s for s, _e in keep], batch_size=2000)
    ids = dict(Student.objects.filter(id_number__in=seen).values_list("id_number", "pk"))
    Enrolment.objects.bulk_create(
        [
            Enrolment(student_id=ids[n], school=school, school_year=YEAR, stage=stage, grade=grade)
            for _s, (n, school, stage, grade) in keep
        ],
        batch_size=2000,
    )
    stdout.write(f"  {len(households)} poor households, {len(keep)} students enrolled in {YEAR}")
    _demo_year(stdout)


def _demo_year(stdout):
    """The 2016–2017 batch for the city (more demo steps are added by the workflow module)."""
    from django.contrib.auth import get_user_model

    from .services import batch

    admin = get_user_model().objects.filter(username="admin").first()
    period = Period.objects.filter(code="2016-2017").first()
    if admin is None or period is None:
        return
    job = batch.run_now(period=period, user=admin)
    stdout.write(f"  batch 2016–2017: {job.message}")
    from jinpin.stats import refresh_statistics

    from .models import Award
    from .services import workflow

    # the registry and the awards were just written in bulk (jinpin.stats)
    refresh_statistics(Award, Student, Enrolment, Household, HouseholdStatus, quick=True)

    hold = _hold_for_report(stdout, period)
    _allocate_for_report(period, hold)
    workflow.demo_year(stdout, period=period, admin=admin, hold=hold)
    _demo_payouts(stdout, period)


def _hold_for_report(stdout, period) -> list[int]:
    """The pupils whose schools have not applied yet on the report's date: all counted by the "aided" figure
    (``subsidies.figures``) beyond the report's 7,864. The household whose overpayment is found later (see
    ``_demo_payouts``: lifted out before the decisive date) is applied for but no longer counts, so it is
    left out of the 7,864."""
    from .figures import aided_awards
    from .models import Award, AwardStatus

    later = (
        Award.objects.filter(
            period=period, county__code="370830", scheme__code="boarding_allowance", student__household__isnull=False
        )
        .order_by("pk")
        .values_list("student__household_id", flat=True)
        .first()
    )
    counted = list(
        aided_awards(REPORT_DATE, statuses=[AwardStatus.CANDIDATE])
        .filter(period=period)
        .exclude(student__household_id=later)
        .order_by("student_id")
        .values_list("student_id", flat=True)
        .distinct()
    )
    if len(counted) < REPORT_AIDED:
        stdout.write(f"  only {len(counted)} pupils can be aided (the report has {REPORT_AIDED})")
    return counted[REPORT_AIDED:]


def _allocate_for_report(period, hold):
    """The year's allocations (scheme × county) summing to the report's 48,140,000 yuan: what each needs for
    the awards applied for, and the rest of the budget in proportion to that need (plus a floor for each)."""
    from decimal import ROUND_DOWN, Decimal

    from django.db.models import Sum

    from .models import Allocation, Award, Scheme, SchemeKind

    need = {
        (r["scheme_id"], r["county_id"]): r["t"]
        for r in Award.objects.filter(period=period, scheme__kind=SchemeKind.CASH)
        .exclude(student_id__in=hold)
        .values("scheme_id", "county_id")
        .annotate(t=Sum("amount"))
        .order_by()
    }
    keys = [
        (s, c)
        for s in Scheme.objects.filter(kind=SchemeKind.CASH).order_by("pk").values_list("pk", flat=True)
        for c in County.objects.order_by("pk").values_list("pk", flat=True)
    ]
    if not keys:
        return
    floor = Decimal("10000")
    weights = {k: (need.get(k) or Decimal("0")) + floor for k in keys}
    spare = Decimal(REPORT_ALLOCATED) - sum(need.values(), Decimal("0"))
    total_w = sum(weights.values())
    amounts = {
        k: (need.get(k) or Decimal("0")) + (spare * weights[k] / total_w).quantize(Decimal("1"), rounding=ROUND_DOWN)
        for k in keys
    }
    biggest = max(keys, key=lambda k: amounts[k])
    amounts[biggest] += Decimal(REPORT_ALLOCATED) - sum(amounts.values())
    for (scheme_id, county_id), amount in amounts.items():
        Allocation.objects.get_or_create(
            scheme_id=scheme_id, county_id=county_id, school_year=period.school_year, defaults={"amount": amount}
        )


def _payment_days(k: int) -> tuple[dt.datetime, dt.datetime]:
    """When the ``k``-th county's batch was sent and when its bank settled it: every eight days from
    12 September 2016, settled five days after sending."""
    sent = timezone.make_aware(dt.datetime(2016, 9, 12, 10, 0)) + dt.timedelta(days=8 * k)
    return sent, sent + dt.timedelta(days=5)


def _demo_payouts(stdout, period):
    """2016–2017: every county pays its approved awards from central funds (the officer prepares, the city
    administrator checks and sends, the bank returns the file); in 汶上县 one line fails and is re-issued, and
    there is one overpayment, a few anomalies and loans."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from jinpin.scope import get_scope
    from schools.models import Membership

    from .models import Award, AwardStatus, EnrolmentConflict, FundingSource, LoanApplication, PayoutLine
    from .services import payouts

    admin = get_user_model().objects.filter(username="admin").first()
    memberships = Membership.objects.filter(role="county_officer", is_active=True).select_related("user", "county")
    total_paid = batches = 0
    wenshang = None
    for k, m in enumerate(memberships.order_by("county__code")):
        officer, county = m.user, m.county
        scope = get_scope(officer)
        if not Award.objects.filter(county=county, period=period, status=AwardStatus.APPROVED).exists():
            continue
        batch = payouts.payout_prepare(
            county=county, period=period, funding_source=FundingSource.CENTRAL, acting_user=officer, scope=scope
        )
        # four eyes: the city administrator checks the officer's batch and sends it
        sender = admin or officer
        # the autumn semester's payment, in the demo's year: the first counties' banks pay before the report
        # (2016-09-26), the others in October and November (the dashboard's "paid by month")
        sent, settled = _payment_days(k)
        payouts.payout_send(batch=batch, acting_user=sender, scope=get_scope(sender), at=sent)
        lines = list(batch.lines.order_by("pk").values_list("pk", flat=True))
        results = [{"line": pk, "paid": True, "reference": f"JN2016{pk:08d}"} for pk in lines]
        if county.code == "370830":
            results[-1] = {"line": lines[-1], "paid": False, "reason": "账户已冻结"}
        paid, failed = payouts.lines_settle(results=results, acting_user=officer, batch=batch, at=settled)
        total_paid += paid
        batches += 1
        if county.code == "370830":
            wenshang = (officer, county, scope, batch, paid, failed)
    stdout.write(f"  {batches} counties paid: {total_paid} payout lines settled by the bank")
    from jinpin.stats import refresh_statistics

    from .models import PayoutBatch

    refresh_statistics(PayoutLine, PayoutBatch, Award)  # a year of payments written in bulk (jinpin.stats)
    if wenshang is None:
        return
    officer, county, scope, batch, paid, failed = wenshang
    again = payouts.payout_prepare(
        county=county, period=period, funding_source=FundingSource.CENTRAL, acting_user=officer, scope=scope
    )
    # an overpayment found later: the household had in fact been lifted out before the decisive date
    award = (
        Award.objects.filter(
            county=county,
            period=period,
            status=AwardStatus.PAID,
            student__household__isnull=False,
            scheme__code="boarding_allowance",
        )
        .order_by("pk")
        .first()
    )
    if award is not None:
        HouseholdStatus.objects.create(
            household=award.student.household,
            status="lifted",
            effective_on=dt.date(2016, 8, 20),
            reason="督查发现：已于2016年8月脱贫（补录）",
        )
        payouts.recovery_create(
            award=award, amount=award.amount, reason="脱贫后仍发放寄宿生生活补助", acting_user=officer, scope=scope
        )
    # the same ID arriving from a second school (refused at import, kept for auditors)
    s = Student.objects.filter(enrolments__school__county=county).order_by("pk").first()
    other = School.objects.filter(county=county).exclude(enrolments__student=s).order_by("code").first()
    if s is not None and other is not None:
        EnrolmentConflict.objects.get_or_create(
            id_number=s.id_number,
            school_year=YEAR,
            school=other,
            defaults={"existing_school": s.enrolments.get(school_year=YEAR).school},
        )
    for k, st in enumerate(
        Student.objects.filter(enrolments__stage=Stage.SENIOR, enrolments__school__county=county).order_by("pk")[:3]
    ):
        LoanApplication.objects.get_or_create(
            student=st,
            school_year=YEAR,
            defaults={
                "county": county,
                "level": "undergraduate",
                "institution": ["山东大学", "曲阜师范大学", "济宁学院"][k],
                "amount": Decimal("8000.00") if k else Decimal("6000.00"),
                "status": "approved",
            },
        )
    stdout.write(
        f"  {county.name}: payout batch #{batch.pk} {paid} paid, {failed} failed; re-issued in batch #{again.pk} "
        f"({PayoutLine.objects.filter(batch=again).count()} line)"
    )


# -- scale data with COPY ------------------------------------------------------------
#: the household columns a COPY fills, in order (here and in benchmarks/bench_draw.py)
HOUSEHOLD_COLUMNS = [
    "id",
    "number",
    "head_name",
    "head_id_number",
    "village_id",
    "members",
    "is_dibao",
    "is_tekun",
    "note",
    "created_at",
    "updated_at",
]


def _copy(table: str, columns: list[str], rows) -> None:
    """COPY rows (tuples of already formatted text) into ``table`` in 100,000-row pieces."""
    cur = connection.cursor()
    raw = cur.cursor if hasattr(cur, "cursor") else cur
    sql = f"COPY {connection.ops.quote_name(table)} ({', '.join(columns)}) FROM STDIN"
    buf = io.StringIO()
    n = 0
    for row in rows:
        buf.write("\t".join(row))
        buf.write("\n")
        n += 1
        if n % 100_000 == 0:
            buf.seek(0)
            pagecache.copy_expert(raw, sql, buf)
            buf = io.StringIO()
    if buf.tell():
        buf.seek(0)
        pagecache.copy_expert(raw, sql, buf)


def _next_id(model) -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT COALESCE(max(id), 0) + 1 FROM {connection.ops.quote_name(model._meta.db_table)}")
        return cur.fetchone()[0]


def _reset_sequence(model) -> None:
    table = model._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {connection.ops.quote_name(table)}))"
        )


def seed_scale(stdout, scale):
    """N × 30,000 households and N × 100,000 students with 2016 enrolments (PostgreSQL COPY)."""
    want_h, want_s = scale * 30_000, scale * 100_000
    have_h = Household.objects.filter(number__startswith=SCALE_PREFIX).count()
    have_s = Student.objects.filter(id_number__startswith=str(SCALE_AREA)[:4]).count()
    if have_h >= want_h and have_s >= want_s:
        stdout.write(f"  scale data already there: {have_h} households, {have_s} students")
        return
    rnd = random.Random(10 * scale + 7)
    now = timezone.now().isoformat()
    villages = list(Village.objects.order_by("code").values_list("pk", "poverty"))
    poor_villages = [v for v, p in villages if p != Poverty.NONE] or [v for v, _p in villages]
    first_h = _next_id(Household)
    t, f = "t", "f"

    def households():
        for n in range(have_h, want_h):
            v = poor_villages[n % len(poor_villages)] if n % 5 else villages[n % len(villages)][0]
            yield (
                str(first_h + n - have_h),
                f"{SCALE_PREFIX}{n:08d}",
                f"户主{n}",
                "",
                str(v),
                str(2 + n % 5),
                t if n % 4 == 0 else f,
                t if n % 12 == 0 else f,
                "",
                now,
                now,
            )

    _copy(
        Household._meta.db_table,
        HOUSEHOLD_COLUMNS,
        households(),
    )
    h_ids = list(range(first_h, first_h + (want_h - have_h)))

    def statuses():
        for i, h in enumerate(h_ids):
            h = str(h)
            yield (h, "identified", "2015-10-10", "", now)
            if i % 20 == 7:
                continue
            yield (h, "verified", "2016-01-15", "", now)
            if i % 10 == 3:
                yield (h, "lifted", "2016-06-30" if i % 20 == 3 else "2016-12-31", "", now)
            elif i % 50 == 9:
                yield (h, "lifted", "2016-03-01", "", now)
                yield (h, "returned", "2016-07-01", "", now)

    _copy(
        HouseholdStatus._meta.db_table, ["household_id", "status", "effective_on", "reason", "recorded_at"], statuses()
    )
    _reset_sequence(Household)

    schools = list(School.objects.order_by("pk").values_list("pk", "stage", "location"))
    first_s = _next_id(Student)
    all_h = h_ids or list(Household.objects.filter(number__startswith=SCALE_PREFIX).values_list("pk", flat=True))

    def students():
        for i in range(have_s, want_s):
            school, school_stage, location = schools[(i * 7919) % len(schools)]
            grade = 1 + i % (3 if school_stage == Stage.KINDERGARTEN else 6)
            stage = _stage_of(school_stage, grade if school_stage != Stage.NINE_YEAR else 1 + i % 9)
            birth = _birth(stage, grade, (i // 500) % 365)
            male = i % 2 == 0
            number = idcard.make(
                f"{SCALE_AREA + i // 182_500}", birth, 2 * (i % 500) + (1 if male else 0), "M" if male else "F"
            )
            household = str(all_h[(i * 31) % len(all_h)]) if i % 10 < 6 else "\\N"
            yield (
                str(first_s + i - have_s),
                number,
                f"学生{i}",
                birth.isoformat(),
                "M" if male else "F",
                household,
                t if i % 50 == 0 else f,
                t if i % 45 == 0 else f,
                t if i % 97 == 0 else f,
                t if location == Location.RURAL and i % 4 == 0 else f,
                t if i % 20 == 1 else f,
                f"监护人{i}",
                f"6228{i:015d}",
                now,
                now,
            )

    _copy(
        Student._meta.db_table,
        [
            "id",
            "id_number",
            "name",
            "birth_date",
            "sex",
            "household_id",
            "is_orphan",
            "is_disabled",
            "is_special_ed",
            "is_boarder",
            "is_dibao",
            "payee_name",
            "bank_account",
            "created_at",
            "updated_at",
        ],
        students(),
    )
    _reset_sequence(Student)

    def enrolments():
        for i in range(have_s, want_s):
            school, school_stage, _loc = schools[(i * 7919) % len(schools)]
            grade = 1 + i % (3 if school_stage == Stage.KINDERGARTEN else 6)
            g = grade if school_stage != Stage.NINE_YEAR else 1 + i % 9
            yield (str(first_s + i - have_s), str(school), str(YEAR), _stage_of(school_stage, g), str(g))

    _copy(Enrolment._meta.db_table, ["student_id", "school_id", "school_year", "stage", "grade"], enrolments())
    with connection.cursor() as cur:
        for model in (Household, HouseholdStatus, Student, Enrolment):
            cur.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    rnd.random()
    stdout.write(f"  scale {scale}: {want_h} households, {want_s} students (COPY)")
