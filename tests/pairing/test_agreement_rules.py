"""The pairing rules, each with its message, and the one-active-agreement constraint."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from pairing import services
from pairing.models import AgreementForm, AgreementSchool, AgreementStatus
from schools.models import Location, Poverty
from tests.factories import SchoolFactory, VillageFactory

from .factories import agreement

pytestmark = pytest.mark.django_db


def create(world, helping, helped, form=AgreementForm.ONE_TO_ONE):
    return services.agreement_create(
        helping_school=helping,
        helped_schools=helped,
        form=form,
        signed_on=dt.date(2016, 9, 1),
        acting_user=world.officer_a,
    )


def messages(exc):
    return " ".join(exc.value.messages)


def test_valid_one_to_one_is_created_as_draft_then_activated(world):
    a = create(world, world.strong_a, [world.weak_a])
    assert a.status == AgreementStatus.DRAFT and a.county == world.county_a
    services.agreement_activate(agreement=a, acting_user=world.officer_a)
    assert AgreementSchool.objects.get(agreement=a).active


def test_helping_school_must_not_be_weak(world):
    weak_urban = SchoolFactory(county=world.county_a, is_weak=True, location=Location.URBAN)
    with pytest.raises(ValidationError) as e:
        create(world, weak_urban, [world.weak_a])
    assert "must not be a weak school" in messages(e)


def test_helping_school_must_be_urban_or_county_town(world):
    rural_strong = SchoolFactory(county=world.county_a, is_weak=False, location=Location.RURAL)
    with pytest.raises(ValidationError) as e:
        create(world, rural_strong, [world.weak_a])
    assert "urban or county-town" in messages(e)
    county_town = SchoolFactory(county=world.county_a, is_weak=False, location=Location.COUNTY_TOWN)
    assert create(world, county_town, [world.weak_a]).pk


def test_helped_schools_must_be_weak(world):
    with pytest.raises(ValidationError) as e:
        create(world, world.strong_a, [SchoolFactory(county=world.county_a)])
    assert "is not a weak school" in messages(e)


def test_key_poor_village_school_must_be_one_to_one(world):
    other_weak = SchoolFactory(county=world.county_a, is_weak=True, location=Location.COUNTY_TOWN)
    with pytest.raises(ValidationError) as e:
        create(world, world.strong_a, [world.weak_a, other_weak], AgreementForm.ONE_TO_MANY)
    assert "must be paired one-to-one" in messages(e) and world.weak_a.name in messages(e)
    # municipal key villages too; ordinary villages may be one-to-many
    municipal = SchoolFactory(
        county=world.county_a,
        is_weak=True,
        location=Location.RURAL,
        village=VillageFactory(town=world.town_a, poverty=Poverty.MUNICIPAL),
    )
    with pytest.raises(ValidationError):
        create(world, world.strong_a, [municipal, other_weak], AgreementForm.ONE_TO_MANY)
    plain = SchoolFactory(
        county=world.county_a,
        is_weak=True,
        location=Location.RURAL,
        village=VillageFactory(town=world.town_a, poverty=Poverty.NONE),
    )
    assert (
        create(world, world.strong_a, [plain, other_weak], AgreementForm.ONE_TO_MANY).form == AgreementForm.ONE_TO_MANY
    )


def test_one_to_one_has_exactly_one_helped_school(world):
    other_weak = SchoolFactory(county=world.county_a, is_weak=True, location=Location.COUNTY_TOWN)
    with pytest.raises(ValidationError) as e:
        create(world, world.strong_a, [world.weak_a, other_weak])
    assert "exactly one helped school" in messages(e)


def test_helped_school_has_at_most_one_active_agreement(world, pair):
    other_helper = SchoolFactory(county=world.county_a, location=Location.COUNTY_TOWN)
    second = create(world, other_helper, [world.weak_a])  # a draft is allowed
    with pytest.raises(ValidationError) as e:
        services.agreement_activate(agreement=second, acting_user=world.officer_a)
    assert "already has an active agreement" in messages(e)
    # ending the first frees the school
    services.agreement_end(agreement=pair, ended_on=dt.date(2017, 8, 31), acting_user=world.officer_a)
    services.agreement_activate(agreement=second, acting_user=world.officer_a)
    second.refresh_from_db()
    assert second.status == AgreementStatus.ACTIVE


def test_database_refuses_second_active_link(world, pair):
    other = agreement(SchoolFactory(county=world.county_a), world.weak_a, status=AgreementStatus.DRAFT)
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementSchool.objects.filter(agreement=other).update(active=True)


def test_end_date_rules(world, pair):
    with pytest.raises(ValidationError) as e:
        services.agreement_end(agreement=pair, ended_on=dt.date(2016, 8, 1), acting_user=world.officer_a)
    assert "before it starts" in messages(e)
    with pytest.raises(ValidationError):
        services.agreement_end(
            agreement=pair, ended_on=timezone.localdate() + dt.timedelta(days=30), acting_user=world.officer_a
        )


def test_no_logging_under_an_ended_agreement(world, pair):
    services.agreement_end(agreement=pair, ended_on=dt.date(2017, 6, 30), acting_user=world.officer_a)
    pair.refresh_from_db()
    with pytest.raises(ValidationError) as e:
        services.activity_log(
            agreement=pair,
            kind="joint_research",
            held_on=dt.date(2017, 6, 1),
            summary="x",
            place="y",
            acting_user=world.principal_a,
        )
    assert "only under an active agreement" in messages(e)


def test_activity_outside_the_term_or_in_the_future_is_refused(world, pair):
    with pytest.raises(ValidationError) as e:
        services.activity_log(
            agreement=pair,
            kind="seminar",
            held_on=dt.date(2016, 8, 31),
            summary="x",
            place="y",
            acting_user=world.principal_a,
        )
    assert "outside the agreement's term" in messages(e)
    with pytest.raises(ValidationError):
        services.activity_log(
            agreement=pair,
            kind="seminar",
            held_on=timezone.localdate() + dt.timedelta(days=1),
            summary="x",
            place="y",
            acting_user=world.principal_a,
        )


def test_edit_only_drafts(world, pair):
    with pytest.raises(ValidationError):
        services.agreement_update(
            agreement=pair,
            helping_school=world.strong_a,
            helped_schools=[world.weak_a],
            form=AgreementForm.ONE_TO_ONE,
            signed_on=dt.date(2016, 9, 1),
            acting_user=world.officer_a,
        )
