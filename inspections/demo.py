"""Demo data for 督查抽查: the report's campaign.

``seed_inspections`` (before the subsidies demo, so that its population is exactly the one planned
here): the 2016 campaign, 第九组 assigned 汶上县 with 5 city departments drawn on the spot, a
verified poor-household population in 汶上县 sized so that the stratified draw at 10.69% gives
exactly 1,192 households (村村拍照: at least one in every village), checks partly done, photos
for some villages, findings at each step of rectification, and the 包保 responsibility data.

``seed_payment_audit`` (after the subsidies demo has paid 汶上县): the special audit of payments
with one traced payment; with ``--scale`` a city-wide draw over the synthetic households.
Both idempotent.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import time
import uuid

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count
from django.utils import timezone
from PIL import Image, ImageDraw

from jinpin.scope import get_scope
from schools.models import County, Village
from subsidies.models import Household, HouseholdStatus

from .models import (
    Assignment,
    Campaign,
    ChecklistItem,
    Draw,
    DrawItem,
    Finding,
    FindingCategory,
    Group,
    HouseholdResponsibility,
)
from .verify_draw import quota

CAMPAIGN = "2016 年精准扶贫督查抽查"
PAYMENT_CAMPAIGN = "2016 年学生资助政策落实情况专项督查"
SCALE_CAMPAIGN = "规模测试：全市抽查"
PREFIX = "R"  # the demo population's household numbers (the subsidies demo uses D, scale data SC)
TARGET_SAMPLE = 1192
TARGET_POPULATION = 11150  # 1,192 / 11,150 = 10.69%
RATE = "0.1069"
PARAMS = {"rate": RATE, "minimum": 1, "rounding": "half_up"}
REGISTRY_DATE = dt.date(2016, 9, 1)  # before the report of 2016-09-26, which gives the result
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕"
GIVEN = "建国 秀英 桂兰 玉兰 志强 明 伟 芳 秀珍 凤英 德胜 玉珍 春生 金凤 海 红梅 守田 立新".split()
UNITS = ["汶上县教育局", "汶上县扶贫办", "汶上县财政局", "汶上县人社局", "汶上县卫计局", "镇政府"]


def plan_sizes(existing: list[int], *, total: int = TARGET_POPULATION, target: int = TARGET_SAMPLE, seed: int = 1192):
    """Village population sizes (each at least the village's ``existing`` poor households) summing to
    ``total``, whose quotas (rate 10.69%, half up, at least 1 a village) sum to exactly ``target``.
    Four small villages show the minimum at work. None if the existing households make it impossible."""
    n_villages = len(existing)
    rnd = random.Random(seed)
    base = [2, 3, 4, 3] + [rnd.randint(60, 160) for _ in range(n_villages - 4)]
    big, small = sum(base[4:]), sum(base[:4])
    sizes = base[:4] + [max(20, round(x * (total - small) / big)) for x in base[4:]]
    sizes = [max(x, e) for x, e in zip(sizes, existing, strict=True)]
    if sum(existing) > total:
        return None
    params = {"rate": RATE, "minimum": 1}

    def k(n):
        return quota(n, params)

    i = 4
    while sum(sizes) != total:
        if sum(sizes) < total:
            sizes[i] += 1
        elif sizes[i] > existing[i]:
            sizes[i] -= 1
        i = 4 + (i - 3) % (n_villages - 4)
    # move one household between villages so that the total quota moves by one, until it is the target
    for _ in range(10_000):
        diff = target - sum(k(n) for n in sizes)
        if diff == 0:
            return sizes
        if diff > 0:  # take from a village whose quota stays, give to one whose quota rises
            src = [j for j in range(n_villages) if sizes[j] > existing[j] and k(sizes[j] - 1) == k(sizes[j])]
            dst = [j for j in range(n_villages) if k(sizes[j] + 1) > k(sizes[j])]
        else:  # take from a village whose quota drops, give to one whose quota stays
            src = [j for j in range(n_villages) if sizes[j] > existing[j] and k(sizes[j] - 1) < k(sizes[j])]
            dst = [j for j in range(n_villages) if k(sizes[j] + 1) == k(sizes[j])]
        pairs = [(a, b) for a in src for b in dst if a != b]
        if not pairs:
            return None
        a, b = pairs[0]
        sizes[a] -= 1
        sizes[b] += 1
    return None


def _users():
    User = get_user_model()
    names = ("admin", "inspector", "officer_wenshang", "auditor")
    found = {u.username: u for u in User.objects.filter(username__in=names)}
    return [found.get(n) for n in names]


def _jpeg(label: str, rnd) -> SimpleUploadedFile:
    img = Image.new("RGB", (480, 320), (rnd.randint(60, 200), rnd.randint(90, 200), rnd.randint(60, 160)))
    ImageDraw.Draw(img).rectangle((20, 200, 460, 300), fill=(240, 240, 230))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    return SimpleUploadedFile(f"{label}.jpg", buf.getvalue(), content_type="image/jpeg")


def seed_inspections(stdout, scale):
    from . import services

    admin, inspector, officer, _auditor = _users()
    county = County.objects.filter(code="370830").first()
    if not (admin and inspector and officer and county):
        return
    if Campaign.objects.filter(name=CAMPAIGN).exists():
        stdout.write(f"  {CAMPAIGN} already there")
        return
    if not ChecklistItem.objects.exists():
        return
    # -- the population: verified poor households in every village of 汶上县 ------------------------
    villages = list(Village.objects.filter(county=county).order_by("code"))
    have = dict(
        Household.objects.poor_on(REGISTRY_DATE)
        .filter(village__county=county)
        .values("village_id")
        .annotate(n=Count("pk"))
        .values_list("village_id", "n")
    )
    existing = [have.get(v.pk, 0) for v in villages]
    sizes = plan_sizes(existing)
    if sizes is None:
        stdout.write(f"  汶上县 already has {sum(existing)} poor households: the 1,192 plan does not fit, not added")
    else:
        rnd = random.Random(2016)
        Household.objects.bulk_create(
            [
                Household(
                    number=f"{PREFIX}{v.code}{k:03d}",
                    head_name=rnd.choice(SURNAMES) + rnd.choice(GIVEN),
                    village=v,
                    members=rnd.randint(1, 6),
                    is_dibao=rnd.random() < 0.2,
                    is_tekun=rnd.random() < 0.05,
                )
                for v, n, e in zip(villages, sizes, existing, strict=True)
                for k in range(n - e)
            ],
            batch_size=5000,
        )
        ids = list(
            Household.objects.filter(number__startswith=PREFIX, village__county=county).values_list("pk", flat=True)
        )
        HouseholdStatus.objects.bulk_create(
            [HouseholdStatus(household_id=h, status="identified", effective_on=dt.date(2015, 10, 10)) for h in ids]
            + [
                HouseholdStatus(
                    household_id=h, status="verified", effective_on=dt.date(2016, 1, 15), reason="回头看、六核对一规范"
                )
                for h in ids
            ],
            batch_size=5000,
        )
        HouseholdResponsibility.objects.bulk_create(
            [
                HouseholdResponsibility(
                    household_id=h,
                    unit=UNITS[i % len(UNITS)],
                    cadre=rnd.choice(SURNAMES) + rnd.choice(GIVEN),
                    phone=f"1385377{i % 10000:04d}",
                    since=dt.date(2016, 3, 1),
                )
                for i, h in enumerate(ids)
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )
        # written in bulk and read at once by the draw's population query, in this transaction: without fresh
        # statistics PostgreSQL estimated the 22,300 statuses and 11,150 households at one row each and joined
        # them in a nested loop that ran for over ten minutes (seen on PostgreSQL 18 in the suite; jinpin.stats)
        from jinpin.stats import refresh_statistics

        refresh_statistics(Household, HouseholdStatus, HouseholdResponsibility)
    # -- campaign, group, assignment, the draws made at the meeting ----------------------------------
    campaign = Campaign.objects.create(
        name=CAMPAIGN,
        kind=Campaign.Kind.REGISTRY,
        starts_on=dt.date(2016, 9, 12),
        ends_on=dt.date(2016, 9, 16),
        registry_date=REGISTRY_DATE,
        status=Campaign.Status.RUNNING,
        created_by=admin,
    )
    group = Group.objects.create(campaign=campaign, name="第九组")
    group.members.add(inspector)
    Assignment.objects.create(group=group, departments_to_draw=5).counties.add(county)
    inspector = get_user_model().objects.get(pk=inspector.pk)  # a fresh object: its scope now has the county
    scope = get_scope(inspector)
    deps = services.draw_propose(
        group=group, kind="departments", params={"count": 5}, seed="0537", acting_user=inspector, scope=scope
    )
    services.draw_confirm(draw=deps, acting_user=inspector)
    draw = services.draw_propose(
        group=group, kind="households", params=PARAMS, seed="20161024", acting_user=inspector, scope=scope
    )
    services.draw_confirm(draw=draw, acting_user=inspector)
    stdout.write(
        f"  {CAMPAIGN}: 第九组 · 汶上县 + {deps.sample_size} departments; households drawn {draw.sample_size} of "
        f"{draw.population_size} ({draw.effective_rate:.2%}) in {len(draw.strata)} villages"
    )
    _demo_checks(stdout, campaign, draw, inspector, officer, admin)


def _demo_checks(stdout, campaign, draw, inspector, officer, admin):
    from . import services

    rnd = random.Random(1024)
    items = list(DrawItem.objects.filter(draw=draw).select_related("village").order_by("stratum", "position"))
    checklist = list(ChecklistItem.objects.filter(is_active=True).values_list("pk", "code"))
    income = next(pk for pk, code in checklist if code == "income")
    housing = next(pk for pk, code in checklist if code == "housing")
    villages = sorted({it.village_id for it in items})
    done_villages = set(villages[: int(len(villages) * 0.65)])  # the group is two-thirds through the county
    t0 = timezone.make_aware(dt.datetime(2016, 9, 12, 8, 30))
    checks = failed = 0
    failed_results = []
    for n, it in enumerate(i for i in items if i.village_id in done_villages):
        when = t0 + dt.timedelta(minutes=12 * n)
        if n % 41 == 7:
            services.check_submit(
                item=it,
                client_uuid=uuid.uuid5(uuid.NAMESPACE_URL, f"jinpin-demo-check-{it.pk}"),
                outcome="not_found",
                not_found_reason="全家外出务工，邻居证实",
                checked_at=when,
                acting_user=inspector,
            )
        else:
            results = {pk: (True, "") for pk, _c in checklist}
            if n % 23 == 5:
                results[income] = (False, "家中新购农用车，收入与档案不符")
                failed += 1
            if n % 37 == 11:
                results[housing] = (False, "已在县城购房")
                failed += 1
            check, _ = services.check_submit(
                item=it,
                client_uuid=uuid.uuid5(uuid.NAMESPACE_URL, f"jinpin-demo-check-{it.pk}"),
                outcome="visited",
                results=results,
                checked_at=when,
                acting_user=inspector,
            )
            if n % 23 == 5:
                failed_results.append(check.results.get(item_id=income))
        checks += 1
    photos = 0
    for v in sorted(done_villages)[: int(len(done_villages) * 0.85)]:
        services.photo_add(
            campaign=campaign,
            upload=_jpeg(f"village-{v}", rnd),
            client_uuid=uuid.uuid5(uuid.NAMESPACE_URL, f"jinpin-demo-village-{v}"),
            village=Village.objects.get(pk=v),
            captured_at=t0 + dt.timedelta(hours=photos),
            latitude=None,
            longitude=None,
            acting_user=inspector,
        )
        photos += 1
    # findings at each step of rectification
    scope_i, scope_o = get_scope(inspector), get_scope(officer)
    cat = {c.code: c for c in FindingCategory.objects.all()}
    steps = ["open", "submitted", "returned", "closed", "open"]
    for k, result in enumerate(failed_results[:5]):
        item = result.household_check.item
        f = services.finding_record(
            finding=Finding(
                campaign=campaign,
                county_id=item.county_id,
                source=Finding.Source.ITEM,
                item=item,
                result=result,
                village=item.village,
                category=cat["identification"],
                severity=Finding.Severity.MEDIUM,
                description=f"{item.snapshot['number']} {result.note}，需重新核定是否符合建档立卡标准",
                responsible_level=Finding.Level.TOWN,
                responsible_unit=f"{item.snapshot['town']}人民政府",
                deadline=dt.date(2016, 11, 30) if k != 4 else dt.date(2017, 3, 31),
            ),
            acting_user=inspector,
            scope=scope_i,
        )
        target = steps[k]
        if target in ("submitted", "returned", "closed"):
            services.finding_submit(
                finding=f,
                measures="已入户重新核对收入，召开村民代表会评议，拟按程序退出。",
                acting_user=officer,
                scope=scope_o,
            )
        if target == "returned":
            services.finding_return(
                finding=f, reason="缺少村民代表会评议记录和公示照片", acting_user=inspector, scope=scope_i
            )
        if target == "closed":
            services.finding_close(finding=f, reason="整改到位", acting_user=inspector, scope=scope_i)
    stdout.write(
        f"  checks {checks} of {len(items)} ({failed} failed items), {photos} of {len(villages)} villages "
        f"photographed, {min(5, len(failed_results))} findings in rectification"
    )


def seed_payment_audit(stdout, scale):
    from . import services

    admin, inspector, _officer, auditor = _users()
    county = County.objects.filter(code="370830").first()
    if not (admin and inspector and county):
        return
    campaign, created = Campaign.objects.get_or_create(
        name=PAYMENT_CAMPAIGN,
        defaults={
            "kind": Campaign.Kind.PAYMENTS,
            "starts_on": dt.date(2017, 3, 1),
            "ends_on": dt.date(2017, 3, 15),
            "registry_date": dt.date(2016, 10, 20),
            "status": Campaign.Status.RUNNING,
            "created_by": admin,
        },
    )
    if created:
        group = Group.objects.create(campaign=campaign, name="资助专项督查组")
        group.members.add(inspector)
        Assignment.objects.create(group=group).counties.add(county)
    group = campaign.groups.first()
    live = Draw.objects.filter(group=group, kind="payments").exclude(status=Draw.Status.SUPERSEDED).first()
    if live is not None and live.status == Draw.Status.CONFIRMED:
        stdout.write(f"  {PAYMENT_CAMPAIGN} already there")
    else:
        inspector = get_user_model().objects.get(pk=inspector.pk)
        draw = services.draw_propose(
            group=group,
            kind="payments",
            params={"rate": "0.1", "minimum": 1, "rounding": "half_up"},
            seed="20170301",
            reason="" if live is None else "发放数据到位后重新抽取",
            acting_user=inspector,
            scope=get_scope(inspector),
        )
        if draw.population_size:
            services.draw_confirm(draw=draw, acting_user=inspector)
            first = draw.items.order_by("position").first()
            if auditor is not None:
                services.trace_record(
                    item=first,
                    outcome="confirmed",
                    note="学籍、建档立卡状态、审批与银行回单一致",
                    acting_user=auditor,
                    scope=get_scope(auditor),
                )
        stdout.write(
            f"  {PAYMENT_CAMPAIGN}: {draw.sample_size} of {draw.population_size} paid lines drawn"
            + (", one traced" if draw.population_size else "")
        )
    if scale:
        _scale_draw(stdout, admin)


def _scale_draw(stdout, admin):
    """A city-wide draw over every poor household (the synthetic scale data), timed."""
    from . import services

    if Campaign.objects.filter(name=SCALE_CAMPAIGN).exists():
        stdout.write("  scale draw already there")
        return
    campaign = Campaign.objects.create(
        name=SCALE_CAMPAIGN,
        kind=Campaign.Kind.REGISTRY,
        starts_on=dt.date(2016, 11, 1),
        ends_on=dt.date(2016, 11, 30),
        registry_date=REGISTRY_DATE,
        status=Campaign.Status.PLANNED,
        created_by=admin,
    )
    group = Group.objects.create(campaign=campaign, name="全市组")
    Assignment.objects.create(group=group).counties.set(County.objects.all())
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    group.campaign.status = Campaign.Status.RUNNING
    t = time.perf_counter()
    draw = services.draw_propose(
        group=group, kind="households", params=PARAMS, seed="scale", acting_user=admin, scope=get_scope(admin)
    )
    took = time.perf_counter() - t
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CLOSED)
    stdout.write(
        f"  scale draw: {draw.sample_size} of {draw.population_size} households in {len(draw.strata)} villages, "
        f"{took:.2f} s (population query + draw + record)"
    )


__all__ = ["seed_inspections", "seed_payment_audit", "plan_sizes", "Draw"]
