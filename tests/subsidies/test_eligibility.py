"""Every scheme's eligibility and amount at its boundaries, as the batch computes them (PostgreSQL)."""

import datetime as dt
from decimal import Decimal

import pytest

from schools.models import Stage
from subsidies.models import Award, HouseholdStatus, RateVersion, Scheme
from tests.factories import rural_school

from .conftest import run_batch
from .factories import household, period_2017, pupil

pytestmark = [pytest.mark.django_db]


def awards(student, period=None):
    qs = Award.objects.filter(student=student)
    if period is not None:
        qs = qs.filter(period=period)
    return {a.scheme.code: a.amount for a in qs.select_related("scheme")}


def verified(village, **kw):
    return household(village, ("identified", "2015-10-01"), ("verified", "2016-01-15"), **kw)


def test_preschool_age_boundaries_3_and_6(places, period):
    w = places
    h = verified(w.village_a)
    just_3 = pupil(w.kinder_a, birth_date=dt.date(2013, 9, 1), household=h)  # 3 on 1 Sept 2016
    not_yet_3 = pupil(w.kinder_a, birth_date=dt.date(2013, 9, 2), household=h)
    still_5 = pupil(w.kinder_a, birth_date=dt.date(2010, 9, 2), household=h)
    just_6 = pupil(w.kinder_a, birth_date=dt.date(2010, 9, 1), household=h)
    run_batch(period)
    assert awards(just_3)["preschool"] == Decimal("1500.00")
    assert "preschool" not in awards(not_yet_3)
    assert awards(still_5)["preschool"] == Decimal("1500.00")
    assert "preschool" not in awards(just_6)


def test_preschool_tiers_and_groups(places, period):
    w = places
    orphan = pupil(w.kinder_a, birth_date=dt.date(2012, 3, 1), is_orphan=True)
    disabled = pupil(w.kinder_a, birth_date=dt.date(2012, 3, 1), is_disabled=True)
    nobody = pupil(w.kinder_a, birth_date=dt.date(2012, 3, 1))
    run_batch(period)
    assert awards(orphan)["preschool"] == Decimal("1000.00")  # second tier: not a registered poor household
    assert awards(disabled)["preschool"] == Decimal("1000.00")
    assert awards(nobody) == {}


def test_household_lifted_out_on_the_decisive_date_is_not_eligible(places, period):
    w = places
    lifted_that_day = household(w.village_a, ("verified", "2016-01-15"), ("lifted", "2016-09-01"))
    lifted_next_day = household(w.village_a, ("verified", "2016-01-15"), ("lifted", "2016-09-02"))
    returned = household(w.village_a, ("verified", "2015-01-15"), ("lifted", "2015-12-01"), ("returned", "2016-06-01"))
    only_identified = household(w.village_a, ("identified", "2016-03-01"))
    a = pupil(w.weak_a, household=lifted_that_day)
    b = pupil(w.weak_a, household=lifted_next_day)
    c = pupil(w.weak_a, household=returned)
    d = pupil(w.weak_a, household=only_identified)
    run_batch(period)
    assert "nutrition" not in awards(a) and "textbooks" not in awards(a)
    assert awards(a)["fee_waiver"] == Decimal("0.00")  # every pupil of a poor-village school
    assert awards(b)["nutrition"] == Decimal("600.00")
    assert awards(c)["nutrition"] == Decimal("600.00")
    assert "nutrition" not in awards(d)


def test_nutrition_pays_the_highest_category_only(places, period):
    w = places
    h = verified(w.village_a)
    orphan_special = pupil(w.weak_a, household=h, is_orphan=True, is_special_ed=True)
    special = pupil(w.weak_a, household=h, is_special_ed=True)
    poor = pupil(w.weak_a, household=h)
    dibao_no_household = pupil(w.strong_a, is_dibao=True)
    orphan_alone = pupil(w.strong_a, is_orphan=True)
    special_not_poor = pupil(w.strong_a, is_special_ed=True)
    run_batch(period)
    assert awards(orphan_special)["nutrition"] == Decimal("3650.00")
    assert Award.objects.filter(student=orphan_special, scheme__code="nutrition").count() == 1
    assert awards(special)["nutrition"] == Decimal("2000.00")
    assert awards(poor)["nutrition"] == Decimal("600.00")
    assert awards(dibao_no_household)["nutrition"] == Decimal("600.00")
    assert awards(dibao_no_household)["textbooks"] == Decimal("0.00")
    assert awards(orphan_alone)["nutrition"] == Decimal("3650.00")
    assert "nutrition" not in awards(special_not_poor)


def test_boarding_allowance_by_stage_and_fee_waivers(places, period):
    w = places
    h = verified(w.plain_village_a)
    primary_boarder = pupil(w.weak_a, household=h, is_boarder=True)
    junior_boarder = pupil(w.junior_a, household=h, is_boarder=True)
    day_pupil = pupil(w.junior_a, household=h)
    rich_boarder = pupil(w.junior_a, is_boarder=True)
    run_batch(period)
    assert awards(primary_boarder)["boarding_allowance"] == Decimal("1000.00")
    assert awards(junior_boarder)["boarding_allowance"] == Decimal("1250.00")
    assert "boarding_allowance" not in awards(day_pupil)
    # rural boarders have their boarding fee waived whoever they are; the junior school is not in a poor village
    assert "boarding_fee_waiver" in awards(rich_boarder) and "fee_waiver" not in awards(rich_boarder)
    assert "boarding_fee_waiver" not in awards(day_pupil)


def test_senior_grant_tiers(places, period):
    w = places
    tekun = pupil(w.senior_a, household=verified(w.village_a, is_tekun=True))
    dibao = pupil(w.senior_a, household=verified(w.village_a, is_dibao=True))
    plain = pupil(w.senior_a, household=verified(w.village_a))
    run_batch(period)
    assert awards(tekun)["senior_grant"] == Decimal("3000.00")
    assert awards(dibao)["senior_grant"] == Decimal("2000.00")
    assert awards(plain)["senior_grant"] == Decimal("1500.00")


def test_a_2017_rate_change_leaves_2016_awards_untouched(places, period):
    w = places
    child = pupil(w.weak_a, household=verified(w.village_a))
    pupil_2017 = child.enrolments.get()
    run_batch(period)
    old = Award.objects.get(student=child, scheme__code="nutrition", period=period)
    nutrition = Scheme.objects.get(code="nutrition")
    lines = nutrition.rates.get().lines
    lines[-1]["amount"] = "800.00"
    RateVersion.objects.create(scheme=nutrition, effective_from=dt.date(2017, 1, 1), lines=lines)
    p2017 = period_2017()
    pupil_2017.pk = None
    pupil_2017.school_year, pupil_2017.grade = 2017, 4
    pupil_2017.save()
    run_batch(period)
    run_batch(p2017)
    again = Award.objects.get(pk=old.pk)
    assert (again.amount, again.rate_version_id) == (Decimal("600.00"), old.rate_version_id)
    new = Award.objects.get(student=child, scheme__code="nutrition", period=p2017)
    assert new.amount == Decimal("800.00") and new.rate_version.effective_from == dt.date(2017, 1, 1)


def test_facts_are_frozen_copies(places, period):
    w = places
    h = verified(w.village_a)
    child = pupil(w.weak_a, household=h, is_boarder=True)
    run_batch(period)
    a = Award.objects.get(student=child, scheme__code="nutrition")
    assert a.facts["household_status"] == "verified"
    assert a.facts["stage"] == Stage.PRIMARY and a.facts["boarder"] is True and a.facts["poor_village"] == "provincial"
    assert a.facts["date"] == "2016-09-01"
    HouseholdStatus.objects.create(household=h, status="lifted", effective_on=dt.date(2016, 12, 1))
    a.refresh_from_db()
    assert a.facts["household_status"] == "verified"


def test_vocational_textbooks_and_preschool_outside_poor_villages(places, period):
    from tests.factories import SchoolFactory

    w = places
    vocational = SchoolFactory(county=w.county_a, code="0830000006", name="汶上职专", stage=Stage.VOCATIONAL)
    town_kinder = SchoolFactory(county=w.county_a, code="0830000007", name="汶上实验幼儿园", stage=Stage.KINDERGARTEN)
    h = verified(w.village_a)
    voc_poor = pupil(vocational, household=h, birth_date=dt.date(2000, 5, 1))
    voc_other = pupil(vocational, is_dibao=True, birth_date=dt.date(2000, 5, 1))
    kinder_town = pupil(town_kinder, household=h, birth_date=dt.date(2012, 5, 1))
    run_batch(period)
    # nutrition meals are for compulsory and special education only: not vocational, not kindergarten
    assert awards(voc_poor) == {"vocational_tuition": Decimal("0.00"), "textbooks": Decimal("0.00")}
    assert "vocational_tuition" not in awards(voc_other) and "textbooks" in awards(voc_other)
    assert "preschool" not in awards(kinder_town) and "textbooks" not in awards(kinder_town)
    assert awards(kinder_town) == {}


def test_an_inactive_scheme_or_one_without_rates_is_not_awarded(places, period):
    w = places
    child = pupil(w.weak_a, household=verified(w.village_a))
    Scheme.objects.filter(code="nutrition").update(is_active=False)
    RateVersion.objects.filter(scheme__code="textbooks").delete()
    run_batch(period)
    assert set(awards(child)) == {"fee_waiver"}


def test_nine_year_school_grades_1_to_6_are_primary_and_7_to_9_junior(places, period):
    """A poor-village nine-year school: every stage-dependent rate follows the grade (DOMAIN.md)."""
    w = places
    nine_year = rural_school(
        county=w.county_a, village=w.village_a, code="0830000008", name="汶上李庄九年一贯制学校", stage=Stage.NINE_YEAR
    )
    h = verified(w.village_a)
    grade_6 = pupil(nine_year, grade=6, household=h, is_boarder=True)
    grade_7 = pupil(nine_year, grade=7, household=h, is_boarder=True)
    grade_8 = pupil(nine_year, grade=8, household=h, is_boarder=True)
    day_grade_8 = pupil(nine_year, grade=8, household=h)
    run_batch(period)
    assert awards(grade_6)["boarding_allowance"] == Decimal("1000.00")
    assert awards(grade_7)["boarding_allowance"] == Decimal("1250.00")
    assert awards(grade_8) == {
        "boarding_allowance": Decimal("1250.00"),
        "fee_waiver": Decimal("0.00"),
        "boarding_fee_waiver": Decimal("0.00"),
        "textbooks": Decimal("0.00"),
        "nutrition": Decimal("600.00"),
    }
    assert "boarding_allowance" not in awards(day_grade_8)
    # the frozen facts keep the school's own stage and the grade the rate followed
    facts = Award.objects.get(student=grade_8, scheme__code="boarding_allowance").facts
    assert (facts["stage"], facts["grade"]) == (Stage.NINE_YEAR, 8)


def test_nutrition_meals_stages_and_categories(places, period):
    """Compulsory and special education only; orphan 3,650, special education 2,000, 低保 and hardship 600."""
    from tests.factories import SchoolFactory

    w = places
    special_school = SchoolFactory(county=w.county_a, code="0830000009", name="汶上特殊教育学校", stage=Stage.SPECIAL)
    town_kinder = SchoolFactory(county=w.county_a, code="0830000010", name="汶上实验幼儿园", stage=Stage.KINDERGARTEN)
    h = verified(w.village_a)
    kinder_poor = pupil(w.kinder_a, household=h, birth_date=dt.date(2012, 5, 1))
    kinder_orphan = pupil(town_kinder, is_orphan=True, birth_date=dt.date(2015, 5, 1))  # one year old
    senior_poor = pupil(w.senior_a, household=h, birth_date=dt.date(2000, 5, 1))
    special_school_poor = pupil(special_school, household=h)
    special_school_alone = pupil(special_school)  # a special-education school pupil of no hardship group
    orphan = pupil(w.strong_a, is_orphan=True)
    pupil_dibao = pupil(w.strong_a, is_dibao=True)  # an urban 低保 family, no registered household
    household_dibao = pupil(w.strong_a, household=verified(w.village_a, is_dibao=True))
    lifted_dibao_household = pupil(
        w.strong_a,
        household=household(w.village_a, ("verified", "2015-01-15"), ("lifted", "2016-06-01"), is_dibao=True),
    )
    lifted_household_pupil_dibao = pupil(
        w.strong_a,
        household=household(w.village_a, ("verified", "2015-01-15"), ("lifted", "2016-06-01")),
        is_dibao=True,
    )
    run_batch(period)
    assert "nutrition" not in awards(kinder_poor) and awards(kinder_poor)["preschool"] == Decimal("1500.00")
    assert awards(kinder_orphan) == {}
    assert "nutrition" not in awards(senior_poor) and "senior_grant" in awards(senior_poor)
    assert awards(special_school_poor)["nutrition"] == Decimal("2000.00")
    assert "nutrition" not in awards(special_school_alone)
    assert awards(orphan)["nutrition"] == Decimal("3650.00")
    assert awards(pupil_dibao)["nutrition"] == Decimal("600.00")
    assert awards(household_dibao)["nutrition"] == Decimal("600.00")
    # a household's 低保 flag counts only while it is a registered poor household; the pupil's own flag always
    assert "nutrition" not in awards(lifted_dibao_household)
    assert awards(lifted_household_pupil_dibao)["nutrition"] == Decimal("600.00")


def test_the_shipped_schemes_name_their_stages(period):
    """What the data migrations leave (seed_schemes runs them as the database's migration did)."""
    assert Scheme.objects.get(code="nutrition").stages == ["primary", "junior", "nine_year", "special"]
    assert Scheme.objects.get(code="boarding_allowance").stages == ["primary", "junior", "nine_year"]
