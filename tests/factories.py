"""factory_boy factories for the registry and people. Later apps add theirs beside it."""

import factory
from django.contrib.auth import get_user_model

from jinpin.scope import Role
from schools.models import County, Location, Membership, Poverty, School, Stage, Town, Village


class CountyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = County
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{370900 + n}")
    name = factory.Sequence(lambda n: f"测试县{n}")


class TownFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Town

    county = factory.SubFactory(CountyFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.county.code}{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"测试镇{n}")


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village

    town = factory.SubFactory(TownFactory)
    county = factory.SelfAttribute("town.county")
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.town.code}{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"测试村{n}")
    poverty = Poverty.PROVINCIAL


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    code = factory.Sequence(lambda n: f"{1000000000 + n}")
    name = factory.Sequence(lambda n: f"测试学校{n}")
    county = factory.SubFactory(CountyFactory)
    stage = Stage.PRIMARY
    location = Location.URBAN
    is_weak = False


def rural_school(**kwargs):
    """A weak rural school in a provincial poor village."""
    village = kwargs.pop("village", None) or VillageFactory(
        **({"town__county": kwargs["county"]} if "county" in kwargs else {})
    )
    kwargs.setdefault("county", village.county)
    return SchoolFactory(village=village, town=village.town, location=Location.RURAL, is_weak=True, **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-Jinpin-2016")


def make_user(role, *, county=None, school=None, username=None, **kwargs):
    user = UserFactory(**({"username": username} if username else {}), **kwargs)
    if school is not None and county is None:
        county = school.county
    Membership.objects.update_or_create(user=user, defaults={"role": role, "county": county, "school": school})
    return user


__all__ = [
    "CountyFactory",
    "TownFactory",
    "VillageFactory",
    "SchoolFactory",
    "UserFactory",
    "make_user",
    "rural_school",
    "Role",
]
