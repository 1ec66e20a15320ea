import io

import pytest
from django.core.management import call_command

from schools.models import County, Poverty, School, Stage, Village

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


def seed():
    out = io.StringIO()
    call_command("seed_demo", only="seed_places,seed_users", stdout=out)
    return out.getvalue()


def test_demo_city_matches_the_report_and_is_idempotent():
    out = seed()
    assert County.objects.count() == 11
    assert set(County.objects.values_list("name", flat=True)) == {
        "任城区",
        "兖州区",
        "曲阜市",
        "邹城市",
        "微山县",
        "鱼台县",
        "金乡县",
        "嘉祥县",
        "汶上县",
        "泗水县",
        "梁山县",
    }
    assert Village.objects.filter(poverty=Poverty.PROVINCIAL).count() == 510
    in_provincial = School.objects.in_provincial_poor_villages()
    assert in_provincial.filter(stage=Stage.PRIMARY).count() == 150
    assert in_provincial.filter(stage=Stage.KINDERGARTEN).count() == 172
    assert School.objects.filter(is_weak=False, location__in=["urban", "county_town"]).count() >= 11 * 5
    assert "officer_wenshang" in out and "Jinpin@2016" in out
    counts = (County.objects.count(), Village.objects.count(), School.objects.count())
    seed()
    assert (County.objects.count(), Village.objects.count(), School.objects.count()) == counts


def test_demo_logins_work(client):
    seed()
    r = client.post("/accounts/login/", {"username": "officer_wenshang", "password": "Jinpin@2016"})
    assert r.status_code == 302
    r = client.get("/schools/")
    assert (
        r.status_code == 200
        and r.context["page"].paginator.count == School.objects.filter(county__name="汶上县").count()
    )
