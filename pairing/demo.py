"""Demo 结对帮扶 data. Deterministic and idempotent.

* The demo city: agreements for the demo schools -- every key-poor-village school
  paired one-to-one in five counties (汶上县 among them, where the demo principals
  work), about 60% in the others; weak town and village schools grouped one-to-many;
  a draft and an ended agreement here and there. Agreements signed in the first days of
  the demo's programme year (the 2016–17 school year, ``schools.demo.DEMO_YEAR_START``),
  activities, secondments, projects, donations and milestones over its two semesters up
  to ``DEMO_LAST_DAY``, with gaps chosen per pair so the compliance pages show met and
  missed (and, as of a day inside a semester, not yet).
* ``--scale N``: N x 1,000 one-to-one agreements over synthetic weak schools and
  N x 100,000 activities (in the same year) written with COPY. When the schools seeder has not made
  enough synthetic weak schools (it makes a third of N x 1,000 weak), this seeder adds
  weak rural schools with codes starting 8 so that each helped school has one active
  agreement, as the rule requires.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from jinpin import pagecache
from schools.demo import DEMO_LAST_DAY, DEMO_YEAR_START
from schools.models import Location, Poverty, School, Stage, Village

from .models import (
    Activity,
    ActivityKind,
    Agreement,
    AgreementForm,
    AgreementSchool,
    AgreementStatus,
    Direction,
    Donation,
    DonationCategory,
    JointProject,
    ProjectStatus,
    SchoolMilestone,
    SchoolMilestoneKind,
    SchoolMilestoneStatus,
    SchoolYear,
    Secondment,
)
from .models.calendar import Calendar

FULL_COVERAGE = {"370830", "370831", "370881", "370883", "370811"}  # 汶上 泗水 曲阜 邹城 任城
DEMO_MARK = "【演示】"
SCALE_MARK = "【合成】"
MEETING_KINDS = [ActivityKind.JOINT_RESEARCH, ActivityKind.LESSON_PREP, ActivityKind.SEMINAR, ActivityKind.OBSERVATION]
OTHER_KINDS = [
    ActivityKind.ONLINE_EVALUATION,
    ActivityKind.SAME_LESSON,
    ActivityKind.STUDENT_EXCHANGE,
    ActivityKind.FESTIVAL,
    ActivityKind.FACILITY_OPENING,
]
SUMMARIES = {
    ActivityKind.JOINT_RESEARCH: "两校语文、数学教研组联合教研，围绕单元整体教学开展研讨。",
    ActivityKind.LESSON_PREP: "英语学科集体备课，统一教学进度与作业设计。",
    ActivityKind.SEMINAR: "围绕课堂提问策略开展教学研讨。",
    ActivityKind.OBSERVATION: "帮扶学校骨干教师上示范课，被帮扶学校教师听课观摩并评课。",
    ActivityKind.ONLINE_CLASSROOM: "开通网络课堂，共享优质课程资源包。",
    ActivityKind.ONLINE_EVALUATION: "网上听评课，两校教师在线研讨。",
    ActivityKind.BACKBONE_TRAINING: "骨干教师送教下乡，开展授课与管理经验分享。",
    ActivityKind.SAME_LESSON: "同课异构展示活动。",
    ActivityKind.STUDENT_EXCHANGE: "两校学生互访，开展手拉手活动。",
    ActivityKind.FESTIVAL: "联合举办校园文化艺术节。",
    ActivityKind.FACILITY_OPENING: "向被帮扶学校学生开放图书馆和实验室。",
}


def seed_pairing(stdout, scale):
    # the demo's year, not the clock's: the records stop on its last day
    today = DEMO_LAST_DAY
    year = SchoolYear.objects.containing(DEMO_YEAR_START).get()
    cal = Calendar()
    rnd = random.Random(2016)
    if not Agreement.objects.filter(content__startswith=DEMO_MARK).exists():
        _seed_demo(rnd, cal, year, today)
    if scale:
        _seed_scale(rnd, cal, year, today, scale)
    from . import compliance

    compliance.touch()  # bulk writes send no signals
    stdout.write(
        f"  {Agreement.objects.count()} agreements ({Agreement.objects.filter(status=AgreementStatus.ACTIVE).count()} active), "
        f"{Activity.objects.count()} activities, {Secondment.objects.count()} secondments, {Donation.objects.count()} donations"
    )


# -- the demo city ----------------------------------------------------------------------------------
def _seed_demo(rnd, cal, year, today):
    from schools.demo import demo_principal_schools

    strong_demo, weak_demo = demo_principal_schools()
    schools = list(School.objects.filter(code__startswith="0").select_related("village", "county").order_by("code"))
    by_county = {}
    for s in schools:
        by_county.setdefault(s.county_id, []).append(s)
    start = year.starts_on
    plans = []  # (agreement, helped list, profile)
    for _county_id, county_schools in by_county.items():
        code = county_schools[0].county.code
        helpers = [s for s in county_schools if not s.is_weak and s.location in (Location.URBAN, Location.COUNTY_TOWN)]
        key = [s for s in county_schools if s.is_weak and s.village_id and s.village.poverty != Poverty.NONE]
        other = [s for s in county_schools if s.is_weak and s not in key]
        if not helpers:
            continue
        if code not in FULL_COVERAGE:
            key = key[: int(len(key) * 0.6)]
        if weak_demo in key:
            key.remove(weak_demo)
            key.insert(0, weak_demo)
        for i, school in enumerate(key):
            helper = strong_demo if school == weak_demo else helpers[i % len(helpers)]
            kg = school.stage == Stage.KINDERGARTEN
            fitting = [h for h in helpers if (h.stage == Stage.KINDERGARTEN) == kg] or helpers
            if school != weak_demo:
                helper = fitting[i % len(fitting)]
            plans.append((helper, [school], AgreementForm.ONE_TO_ONE))
        for j in range(0, len(other) - 1, 2):
            plans.append((helpers[j % len(helpers)], other[j : j + 2], AgreementForm.ONE_TO_MANY))
    agreements, links, statuses = [], [], []
    for n, (helper, helped, form) in enumerate(plans):
        profile = "demo" if helped[0] == weak_demo else rnd.choices(["good", "patchy", "poor"], [0.55, 0.3, 0.15])[0]
        status = AgreementStatus.ACTIVE
        ended = None
        # drafts and ended agreements only where coverage has gaps anyway
        gappy = helped[0] != weak_demo and (
            helped[0].county.code not in FULL_COVERAGE or form == AgreementForm.ONE_TO_MANY
        )
        if gappy and n % 11 == 7:
            status = AgreementStatus.DRAFT
        elif gappy and n % 13 == 11:
            # ended at the winter break (after the report's date, so it still counts then)
            status, ended = AgreementStatus.ENDED, year.starts_on + dt.timedelta(days=150)
        signed = start + dt.timedelta(days=rnd.randrange(0, 20))  # 1-20 September 2016
        agreements.append(
            Agreement(
                county_id=helped[0].county_id,
                helping_school=helper,
                form=form,
                signed_on=signed,
                starts_on=signed,
                ends_on=signed.replace(year=signed.year + 5),
                status=status,
                ended_on=ended,
                end_reason="帮扶学校调整" if ended else "",
                content=f"{DEMO_MARK}联合教研、挂职交流、课题研究、资源共享、捐赠设备与图书。",
            )
        )
        statuses.append(profile)
    Agreement.objects.bulk_create(agreements, batch_size=1000)
    for a, (_h, helped, _f) in zip(agreements, plans, strict=False):
        links += [AgreementSchool(agreement=a, school=s, active=a.status == AgreementStatus.ACTIVE) for s in helped]
    AgreementSchool.objects.bulk_create(links, batch_size=2000)
    _demo_history(rnd, cal, agreements, plans, statuses, year, today)


def _teachers_by_school(school_ids, helper_ids=()):
    """The teachers of the pairs' schools, backbone teachers first. A helping school without any
    backbone teacher gets the 骨干教师 title for its first two teachers (the teachers demo gives
    no honours yet, and the backbone-visit minimum needs them)."""
    from teachers.models import HonourTitle, Teacher

    title = HonourTitle.objects.filter(name="骨干教师", is_backbone=True).first()
    if title is not None:
        have = set(
            Teacher.objects.filter(school_id__in=helper_ids, honours__is_backbone=True).values_list(
                "school_id", flat=True
            )
        )
        Through = Teacher.honours.through
        grant = []
        for school_id in set(helper_ids) - have:
            for pk in Teacher.objects.filter(school_id=school_id).order_by("pk").values_list("pk", flat=True)[:2]:
                grant.append(Through(teacher_id=pk, honourtitle_id=title.pk))
        Through.objects.bulk_create(grant, ignore_conflicts=True)
    out = {}
    for t in (
        Teacher.objects.filter(school_id__in=school_ids)
        .with_is_backbone()
        .only("pk", "school_id", "name")
        .order_by("-is_backbone_a", "pk")
    ):
        out.setdefault(t.school_id, []).append(t)
    return out


def _demo_history(rnd, cal, agreements, plans, profiles, year, today):
    acts, act_people, secs, projects, donations, milestones = [], [], [], [], [], []
    school_ids = {a.helping_school_id for a in agreements} | {s.pk for _h, hs, _f in plans for s in hs}
    staff = _teachers_by_school(school_ids, {a.helping_school_id for a in agreements})
    semesters = [s for s in cal.semesters if s.school_year_id == year.pk and s.starts_on <= today]
    for a, (_helper, helped, _form), profile in zip(agreements, plans, profiles, strict=False):
        if a.status == AgreementStatus.DRAFT:
            continue
        last = min(today, a.ended_on or today)

        def day_in(lo, hi):
            hi = min(hi, last)
            if hi < lo:
                return None
            return lo + dt.timedelta(days=rnd.randrange((hi - lo).days + 1))

        def add(kind, day):
            if day is None or day < a.starts_on:
                return
            y, s = cal.year_of(day), cal.semester_of(day)
            online = kind in (ActivityKind.ONLINE_CLASSROOM, ActivityKind.ONLINE_EVALUATION)
            acts.append(
                Activity(
                    agreement=a,
                    kind=kind,
                    held_on=day,
                    school_year=y,
                    semester=s,
                    place="" if online else rnd.choice(["帮扶学校会议室", "被帮扶学校多功能教室", "县教研室"]),
                    online_link=f"https://class.jining.example.cn/r/{a.pk}-{len(acts)}" if online else "",
                    pupils=rnd.choice([0, 0, 30, 45, 60])
                    if kind in (ActivityKind.STUDENT_EXCHANGE, ActivityKind.FESTIVAL)
                    else 0,
                    summary=SUMMARIES[kind],
                )
            )
            helpers = staff.get(a.helping_school_id, [])
            if kind == ActivityKind.BACKBONE_TRAINING:
                # run by the helping school's backbone teachers (listed first), as the service requires
                people = [t for t in helpers if t.is_backbone_a][:2]
                if people:
                    act_people.append((len(acts) - 1, people))
                return
            people = helpers[:3] + staff.get(helped[0].pk, [])[:3]
            if people:
                act_people.append((len(acts) - 1, rnd.sample(people, min(len(people), rnd.randint(2, 4)))))

        for sem in semesters:
            if profile == "demo" and sem.ends_on >= today:
                continue  # the demo principals' last semester is still due: the browser flow makes it met
            skip = (profile == "patchy" and rnd.random() < 0.35) or (profile == "poor" and rnd.random() < 0.75)
            if not skip:
                for _ in range(rnd.randint(1, 3)):
                    add(rnd.choice(MEETING_KINDS), day_in(sem.starts_on, sem.ends_on))
            for _ in range(rnd.randint(0, 2)):
                add(rnd.choice(OTHER_KINDS), day_in(sem.starts_on, sem.ends_on))
        # the year's minimums: a backbone visit, an online classroom, a secondment each way
        ok = {"good": 0.9, "demo": 0.9, "patchy": 0.5, "poor": 0.15}[profile]
        if rnd.random() < ok:
            add(ActivityKind.BACKBONE_TRAINING, day_in(year.starts_on, year.ends_on))
        if rnd.random() < ok:
            add(ActivityKind.ONLINE_CLASSROOM, day_in(year.starts_on, year.ends_on))
        for direction in Direction.values:
            if rnd.random() < ok - (
                0.2 if direction == Direction.TO_HELPING else 0
            ):  # the helped side sends less often
                start = day_in(year.starts_on, year.starts_on + dt.timedelta(days=150))
                if start:
                    frm, to = (
                        (a.helping_school_id, helped[0].pk)
                        if direction == Direction.TO_HELPED
                        else (helped[0].pk, a.helping_school_id)
                    )
                    pool = staff.get(frm, [])
                    t = pool[1] if len(pool) > 1 else None
                    secs.append(
                        Secondment(
                            agreement=a,
                            direction=direction,
                            from_school_id=frm,
                            to_school_id=to,
                            teacher=t,
                            person_name=t.name if t else "挂职干部",
                            post="副校长（挂职）",
                            starts_on=start,
                            ends_on=start + dt.timedelta(days=90),
                        )
                    )
        if rnd.random() < {"good": 0.9, "demo": 1, "patchy": 0.5, "poor": 0.2}[profile]:
            started = day_in(year.starts_on + dt.timedelta(days=20), year.starts_on + dt.timedelta(days=90))
            if started:
                projects.append(
                    JointProject(
                        agreement=a,
                        title=rnd.choice(
                            ["农村小学阅读能力提升研究", "城乡结对校课堂教学改进研究", "薄弱学校教师专业成长路径研究"]
                        ),
                        lead_names="",
                        started_on=started,
                        status=ProjectStatus.ONGOING,
                        outputs="阶段性研究报告一份",
                    )
                )
        if rnd.random() < 0.5:
            d = day_in(year.starts_on, year.ends_on)
            if d:
                cat = rnd.choice(DonationCategory.values)
                item, qty, unit = {
                    "it": ("更新替换的台式电脑", 20, 2500),
                    "lab": ("理化生实验器材", 10, 800),
                    "instruments": ("音乐器材", 6, 1500),
                    "books": ("图书", 500, 25),
                }[cat]
                donations.append(
                    Donation(
                        agreement=a,
                        recipient=helped[0],
                        item=item,
                        category=cat,
                        quantity=qty,
                        value=Decimal(qty * unit),
                        donated_on=d,
                        received_on=d + dt.timedelta(days=3) if rnd.random() < 0.8 else None,
                    )
                )
        for s in helped:
            if profile in ("good", "demo") or rnd.random() < 0.4:
                milestones.append(
                    SchoolMilestone(
                        school=s,
                        kind=SchoolMilestoneKind.PLAN,
                        status=SchoolMilestoneStatus.ADOPTED,
                        drafted_on=year.starts_on + dt.timedelta(days=20),
                        adopted_on=year.starts_on + dt.timedelta(days=40),
                    )
                )
                adopted = profile == "good"
                milestones.append(
                    SchoolMilestone(
                        school=s,
                        kind=SchoolMilestoneKind.CHARTER,
                        status=SchoolMilestoneStatus.ADOPTED if adopted else SchoolMilestoneStatus.DRAFTED,
                        drafted_on=year.starts_on + dt.timedelta(days=30),
                        adopted_on=year.starts_on + dt.timedelta(days=200) if adopted else None,
                    )
                )
    Activity.objects.bulk_create(acts, batch_size=2000)
    Through = Activity.participants.through
    Through.objects.bulk_create(
        [Through(activity_id=acts[i].pk, teacher_id=t.pk) for i, people in act_people for t in people],
        batch_size=5000,
        ignore_conflicts=True,
    )
    Secondment.objects.bulk_create(secs, batch_size=2000)
    JointProject.objects.bulk_create(projects, batch_size=2000)
    Donation.objects.bulk_create(donations, batch_size=2000)
    SchoolMilestone.objects.bulk_create(milestones, batch_size=2000, ignore_conflicts=True)


# -- scale ------------------------------------------------------------------------------------------------
def _seed_scale(rnd, cal, year, today, scale):
    target = scale * 1000
    have = Agreement.objects.filter(content__startswith=SCALE_MARK).count()
    need = target - have
    if need <= 0:
        return
    helpers = list(
        School.objects.filter(
            code__startswith="0", is_weak=False, location__in=[Location.URBAN, Location.COUNTY_TOWN]
        ).values_list("pk", "county_id")
    )
    by_county = {}
    for pk, county in helpers:
        by_county.setdefault(county, []).append(pk)
    free = list(
        School.objects.filter(is_weak=True, code__regex=r"^[89]")
        .exclude(agreement_links__active=True)
        .values_list("pk", "county_id")
        .order_by("pk")[:need]
    )
    if len(free) < need:
        _add_weak_schools(need - len(free))
        free = list(
            School.objects.filter(is_weak=True, code__regex=r"^[89]")
            .exclude(agreement_links__active=True)
            .values_list("pk", "county_id")
            .order_by("pk")[:need]
        )
    signed = year.starts_on
    agreements = []
    for i, (_school_id, county_id) in enumerate(free):
        pool = by_county.get(county_id) or helpers[0:1] and [helpers[i % len(helpers)][0]]
        agreements.append(
            Agreement(
                county_id=county_id,
                helping_school_id=pool[i % len(pool)],
                form=AgreementForm.ONE_TO_ONE,
                signed_on=signed,
                starts_on=signed,
                status=AgreementStatus.ACTIVE,
                content=f"{SCALE_MARK}{i}",
            )
        )
    Agreement.objects.bulk_create(agreements, batch_size=5000)
    AgreementSchool.objects.bulk_create(
        [AgreementSchool(agreement=a, school_id=s, active=True) for a, (s, _c) in zip(agreements, free, strict=False)],
        batch_size=5000,
    )
    _copy_activities(
        rnd, cal, [(a.pk, a.helping_school_id, s) for a, (s, _c) in zip(agreements, free, strict=False)], signed, today
    )
    secs, projects = [], []
    for a, (s, _c) in zip(agreements, free, strict=False):
        for direction in Direction.values:
            if rnd.random() < 0.7:
                frm, to = (a.helping_school_id, s) if direction == Direction.TO_HELPED else (s, a.helping_school_id)
                start = signed + dt.timedelta(days=rnd.randrange(300))
                secs.append(
                    Secondment(
                        agreement=a,
                        direction=direction,
                        from_school_id=frm,
                        to_school_id=to,
                        person_name="挂职干部",
                        starts_on=start,
                        ends_on=start + dt.timedelta(days=90),
                    )
                )
        if rnd.random() < 0.6:
            projects.append(
                JointProject(agreement=a, title="结对课题", started_on=signed + dt.timedelta(days=rnd.randrange(200)))
            )
    Secondment.objects.bulk_create(secs, batch_size=5000)
    JointProject.objects.bulk_create(projects, batch_size=5000)
    # fresh statistics, or the planner takes a county's thousand agreements for eight
    with connection.cursor() as c:
        for model in (Activity, Agreement, AgreementSchool, Secondment, JointProject, School):
            c.execute(f"ANALYZE {model._meta.db_table}")


def _add_weak_schools(n):
    villages = list(Village.objects.values_list("pk", "town_id", "county_id", "name").order_by("code"))
    start = School.objects.filter(code__startswith="8").count()
    batch = []
    for k in range(start, start + n):
        v = villages[k % len(villages)]
        batch.append(
            School(
                code=f"8{k:09d}",
                name=f"{v[3]}结对合成学校{k}",
                county_id=v[2],
                town_id=v[1],
                village_id=v[0],
                stage=Stage.PRIMARY,
                location=Location.RURAL,
                is_weak=True,
                pupils=150,
            )
        )
    School.objects.bulk_create(batch, batch_size=5000, ignore_conflicts=True)


def _copy_activities(rnd, cal, pairs, since, today, per_agreement=100):
    """N x 100,000 activities: 100 per agreement between ``since`` and today, written with COPY on
    PostgreSQL (bulk_create elsewhere). Per-agreement profiles leave gaps (a missed semester,
    no backbone visit) so all three states appear."""
    span = (today - since).days
    kinds_all = list(ActivityKind.values)
    now = timezone.now()
    rows = []
    for agreement_id, _helper, _helped in pairs:
        profile = rnd.random()
        banned = set()
        if profile < 0.15:
            banned |= set(MEETING_KINDS) | {ActivityKind.BACKBONE_TRAINING}
        elif profile < 0.35:
            banned |= {ActivityKind.BACKBONE_TRAINING, ActivityKind.ONLINE_CLASSROOM}
        kinds = [k for k in kinds_all if k not in banned]
        for _ in range(per_agreement):
            day = since + dt.timedelta(days=rnd.randrange(span + 1))
            k = rnd.choice(kinds)
            y, s = cal.year_of(day), cal.semester_of(day)
            rows.append(
                (agreement_id, k, day, y.pk if y else None, s.pk if s else None, "被帮扶学校", "", 0, SUMMARIES[k], now)
            )
        if len(rows) >= 100_000:
            _write_activities(rows)
            rows = []
    _write_activities(rows)


def _write_activities(rows):
    if not rows:
        return
    buf = io.StringIO()
    for r in rows:
        buf.write("\t".join("\\N" if v is None else str(v) for v in r) + "\n")
    buf.seek(0)
    cols = "agreement_id, kind, held_on, school_year_id, semester_id, place, online_link, pupils, summary, created_at"
    with connection.cursor() as c:
        pagecache.copy_expert(c.cursor, f"COPY {Activity._meta.db_table} ({cols}) FROM STDIN", buf)
