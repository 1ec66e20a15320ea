"""Demo Jining: the 11 real counties, towns, villages (510 provincial poor villages),
the 150 primary schools and 172 kindergartens in them, and strong urban and
county-town schools that can help them. Deterministic and idempotent.

``--scale N`` adds N x 1,000 synthetic schools (codes starting with 9) for benchmarks.
"""

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from jinpin.scope import Role

from .models import County, Location, Membership, Poverty, School, Stage, Town, Village

COUNTIES = [
    # code, name, login slug, share of the 510 provincial poor villages
    ("370811", "任城区", "rencheng", 20),
    ("370812", "兖州区", "yanzhou", 25),
    ("370881", "曲阜市", "qufu", 45),
    ("370883", "邹城市", "zoucheng", 50),
    ("370826", "微山县", "weishan", 50),
    ("370827", "鱼台县", "yutai", 40),
    ("370828", "金乡县", "jinxiang", 50),
    ("370829", "嘉祥县", "jiaxiang", 55),
    ("370830", "汶上县", "wenshang", 55),
    ("370831", "泗水县", "sishui", 60),
    ("370832", "梁山县", "liangshan", 60),
]
TOWN_STEMS = "城关 东关 西关 南苑 北湖 新华 安居 王庄 马集 杨店 黄屯 孙庄 刘楼 张桥 李营 高河".split()
VILLAGE_STEMS = "东 西 南 北 前 后 大 小 新 老 上 下 中 高 王 李 张 刘 陈 杨 赵 孙 周 吴 郑 冯".split()
VILLAGE_SUFFIX = "庄 村 屯 营 楼 集 店 寨 湖 河".split()
DEMO_PASSWORD = "Jinpin@2016"
PRIMARY_IN_POOR = 150
KINDERGARTENS_IN_POOR = 172
PROVINCIAL_POOR = 510

#: The demo's programme year is the report's (dated 2016-09-26): the 2016–17 school year. Every seeder
#: dates the year's work in it -- agreements and activities, hires, movements, training, the subsidy
#: year and its payments, the campaign -- from its first day up to ``DEMO_LAST_DAY`` (the spring
#: semester's last day), whatever the server clock says; only history that precedes the programme
#: (careers, the poverty registry) is older. Pages open on this year because they default to the
#: latest period with data (``jinpin.reference``), not to the clock's year.
DEMO_YEAR_START = dt.date(2016, 9, 1)
DEMO_LAST_DAY = dt.date(2017, 7, 10)


def seed_places(stdout, scale):
    rnd = random.Random(2016)
    counties = {}
    for order, (code, name, _slug, _share) in enumerate(COUNTIES):
        counties[code], _ = County.objects.update_or_create(code=code, defaults={"name": name, "order": order})
    if Village.objects.filter(code__startswith="3708").count() < PROVINCIAL_POOR:
        _seed_villages(rnd, counties)
    _seed_schools(rnd, counties)
    if scale:
        _seed_scale(rnd, counties, scale)
    stdout.write(
        f"  {County.objects.count()} counties, {Town.objects.count()} towns, {Village.objects.count()} villages "
        f"({Village.objects.filter(poverty=Poverty.PROVINCIAL).count()} provincial poor), {School.objects.count()} schools"
    )


def _seed_villages(rnd, counties):
    towns, villages = [], []
    for code, _name, _slug, _share in COUNTIES:
        county = counties[code]
        prefix = county.name[:2]
        for t in range(1, 9):
            town_code = f"{code}{t:03d}"
            stem = TOWN_STEMS[(t + int(code[-2:])) % len(TOWN_STEMS)]
            towns.append(Town(county=county, code=town_code, name=f"{prefix}{stem}{'街道' if t <= 2 else '镇'}"))
    Town.objects.bulk_create(towns, ignore_conflicts=True)
    town_by_code = {t.code: t for t in Town.objects.filter(code__startswith="3708")}
    for code, _name, _slug, share in COUNTIES:
        county = counties[code]
        # the county's provincial poor villages, some municipal ones, and ordinary villages
        kinds = [Poverty.PROVINCIAL] * share + [Poverty.MUNICIPAL] * (share // 4) + [Poverty.NONE] * 40
        for i, poverty in enumerate(kinds):
            t = 3 + i % 6  # poor villages lie in the rural towns (3..8)
            town = town_by_code[f"{code}{t:03d}"]
            n = i // 6 + 1
            name = f"{rnd.choice(VILLAGE_STEMS)}{rnd.choice(VILLAGE_STEMS)}{rnd.choice(VILLAGE_SUFFIX)}"
            villages.append(
                Village(
                    town=town,
                    county=county,
                    code=f"{town.code}{n:03d}",
                    name=name,
                    poverty=poverty,
                    designated_on="2016-03-01" if poverty != Poverty.NONE else None,
                )
            )
    Village.objects.bulk_create(villages, ignore_conflicts=True)


def _seed_schools(rnd, counties):
    existing = set(School.objects.filter(code__startswith="0").values_list("code", flat=True))
    schools = []
    seq = dict.fromkeys(counties, 0)

    def add(county, name, stage, location, weak, village=None, pupils=0):
        seq[county.code] += 1
        code = f"0{county.code[2:]}{seq[county.code]:05d}"
        if code not in existing:
            schools.append(
                School(
                    code=code,
                    name=name,
                    county=county,
                    town=village.town if village else None,
                    village=village,
                    stage=stage,
                    location=location,
                    is_weak=weak,
                    pupils=pupils,
                )
            )

    provincial = list(
        Village.objects.filter(poverty=Poverty.PROVINCIAL).select_related("town", "county").order_by("code")
    )
    # spread the 150 primary schools and 172 kindergartens over the provincial poor villages
    step_p = len(provincial) / PRIMARY_IN_POOR
    step_k = len(provincial) / KINDERGARTENS_IN_POOR
    for code, name, _slug, _share in COUNTIES:
        county = counties[code]
        prefix = name[:2]
        # strong schools that can help (urban in districts, county town elsewhere)
        loc = Location.URBAN if name.endswith("区") or name.endswith("市") else Location.COUNTY_TOWN
        for i, stage in enumerate(
            [
                Stage.PRIMARY,
                Stage.PRIMARY,
                Stage.PRIMARY,
                Stage.JUNIOR,
                Stage.JUNIOR,
                Stage.SENIOR,
                Stage.KINDERGARTEN,
                Stage.KINDERGARTEN,
            ]
        ):
            label = {
                Stage.PRIMARY: "实验小学",
                Stage.JUNIOR: "实验中学",
                Stage.SENIOR: "第一中学",
                Stage.KINDERGARTEN: "实验幼儿园",
            }[stage]
            add(
                county,
                f"{prefix}{label}{'' if i in (0, 3, 5, 6) else '第二'}".replace("第二第二", "第三"),
                stage,
                loc,
                False,
                pupils=rnd.randint(900, 2600),
            )
        # weak urban and county-town schools
        add(county, f"{prefix}城郊小学", Stage.PRIMARY, loc, True, pupils=rnd.randint(200, 500))
        add(county, f"{prefix}城郊中学", Stage.JUNIOR, loc, True, pupils=rnd.randint(200, 600))
    for n in range(PRIMARY_IN_POOR):
        v = provincial[int(n * step_p)]
        add(
            v.county,
            f"{v.town.name[:-1] if v.town.name.endswith('镇') else v.town.name}{v.name}小学",
            Stage.PRIMARY,
            Location.RURAL,
            True,
            v,
            rnd.randint(60, 400),
        )
    for n in range(KINDERGARTENS_IN_POOR):
        v = provincial[int(n * step_k)]
        add(
            v.county,
            f"{v.town.name[:-1] if v.town.name.endswith('镇') else v.town.name}{v.name}幼儿园",
            Stage.KINDERGARTEN,
            Location.RURAL,
            True,
            v,
            rnd.randint(30, 150),
        )
    # junior schools in municipal poor villages and rural schools elsewhere
    for v in Village.objects.filter(poverty=Poverty.MUNICIPAL).select_related("town", "county").order_by("code")[::3]:
        add(v.county, f"{v.town.name[:-1]}{v.name}中学", Stage.JUNIOR, Location.RURAL, True, v, rnd.randint(150, 700))
    for v in Village.objects.filter(poverty=Poverty.NONE).select_related("town", "county").order_by("code")[::8]:
        add(
            v.county,
            f"{v.town.name[:-1]}{v.name}小学",
            Stage.PRIMARY,
            Location.RURAL,
            rnd.random() < 0.3,
            v,
            rnd.randint(100, 500),
        )
    # names must be unique in a county: suffix clashes
    seen = set(School.objects.values_list("county_id", "name"))
    for s in schools:
        base, k = s.name, 2
        while (s.county_id, s.name) in seen:
            s.name = f"{base[:-2]}{k}{base[-2:]}" if base.endswith(("小学", "中学")) else f"{base}{k}"
            k += 1
        seen.add((s.county_id, s.name))
    School.objects.bulk_create(schools, ignore_conflicts=True, batch_size=2000)


def _seed_scale(rnd, counties, scale):
    """N x 1,000 synthetic schools spread over the villages (codes 9xxxxxxxxx)."""
    target = scale * 1000
    have = School.objects.filter(code__startswith="9").count()
    villages = list(Village.objects.select_related("town").order_by("code"))
    stages = [Stage.PRIMARY, Stage.PRIMARY, Stage.KINDERGARTEN, Stage.JUNIOR, Stage.NINE_YEAR]
    batch = []
    for n in range(have, target):
        v = villages[n % len(villages)]
        batch.append(
            School(
                code=f"9{n:09d}",
                name=f"{v.name}合成学校{n}",
                county_id=v.county_id,
                town_id=v.town_id,
                village=v,
                stage=stages[n % len(stages)],
                location=Location.RURAL,
                is_weak=n % 3 == 0,
                pupils=100 + n % 400,
            )
        )
        if len(batch) == 5000:
            School.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    School.objects.bulk_create(batch, ignore_conflicts=True)


def demo_principal_schools():
    """The demo principals' schools: one strong county-town school and one weak poor-village school in 汶上县."""
    strong = School.objects.filter(county__code="370830", is_weak=False, stage=Stage.PRIMARY).order_by("code").first()
    weak = (
        School.objects.filter(county__code="370830", village__poverty=Poverty.PROVINCIAL, stage=Stage.PRIMARY)
        .order_by("code")
        .first()
    )
    return strong, weak


def seed_users(stdout, scale):
    User = get_user_model()
    rows = [("admin", "市教育局管理员", Role.CITY_ADMIN, None, None, True)]
    counties = {c.code: c for c in County.objects.all()}
    for code, name, slug, _ in COUNTIES:
        rows.append((f"officer_{slug}", f"{name}教育局", Role.COUNTY_OFFICER, counties[code], None, False))
    strong, weak = demo_principal_schools()
    rows.append(("principal_strong", f"{strong.name}校长", Role.PRINCIPAL, strong.county, strong, False))
    rows.append(("principal_weak", f"{weak.name}校长", Role.PRINCIPAL, weak.county, weak, False))
    rows.append(("inspector", "第九督查组", Role.INSPECTOR, None, None, False))
    rows.append(("auditor", "市审计局", Role.AUDITOR, None, None, False))
    hashed = None  # PBKDF2 costs about 0.3 s a hash: hash the one demo password once, for every demo login
    for username, full_name, role, county, school, staff in rows:
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": full_name[:150]})
        if created:
            hashed = hashed or make_password(DEMO_PASSWORD)
            user.password = hashed
            user.is_staff = staff
            user.is_superuser = staff
            user.save()
        Membership.objects.update_or_create(user=user, defaults={"role": role, "county": county, "school": school})
    stdout.write(f"  demo logins (password {DEMO_PASSWORD}):")
    for username, _full_name, role, county, school, _ in rows:
        where = school or county or "全市"
        stdout.write(f"    {username:<22} {Role(role).label} · {where}")
