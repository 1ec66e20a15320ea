"""The pickers' search answers only what the user may see: login required, scoped, paged, from one
character; a form renders only the chosen options, not every row."""

import pytest
from django.urls import reverse

from tests.factories import SchoolFactory
from tests.pairing.factories import agreement, teacher

pytestmark = pytest.mark.django_db


def _search(client, source, q, **params):
    return client.get(reverse("autocomplete", args=[source]), {"q": q, **params})


def test_login_required_and_unknown_source(world, client):
    r = _search(client, "schools", "汶上")
    assert r.status_code == 302 and "/accounts/login/" in r.url
    from django.test import Client

    c = Client()
    c.force_login(world.officer_a)
    assert _search(c, "nothing", "x").status_code == 404


def test_schools_in_scope_only_and_paged(world, client_for):
    for i in range(25):
        SchoolFactory(county=world.county_a, code=f"08309{i:05d}", name=f"汶上第{i}小学")
    a = client_for(world.officer_a)
    data = _search(a, "schools", "小学").json()
    names = [r["text"] for r in data["results"]]
    assert len(names) == 20 and data["more"] is True
    assert not any("泗水" in n for n in names)
    rest = _search(a, "schools", "小学", page=2).json()
    assert len(rest["results"]) == 27 - 20 and rest["more"] is False  # 25 + the world's two of 汶上县
    assert _search(a, "schools", "泗水").json()["results"] == []
    assert _search(client_for(world.officer_b), "schools", "泗水").json()["results"]
    assert _search(a, "schools", "").json() == {"results": [], "more": False, "min_chars": 1}
    # a principal finds only their own school
    p = [r["text"] for r in _search(client_for(world.principal_a), "schools", "小学").json()["results"]]
    assert p == [f"{world.weak_a.name}（{world.weak_a.code}）"]


def test_pair_teachers_only_for_a_pair_in_scope(world, client_for):
    pair = agreement(world.strong_a, world.weak_a)
    teacher(world.strong_a, name="王骨干", backbone=True)
    teacher(world.weak_a, name="王老师")
    teacher(world.strong_b, name="王外县")
    c = client_for(world.principal_a)  # the partner school's teachers too: they are the pair's
    texts = [r["text"] for r in _search(c, "pair-teachers", "王", agreement=pair.pk).json()["results"]]
    assert len(texts) == 2 and any("王骨干" in t for t in texts) and not any("王外县" in t for t in texts)
    assert _search(client_for(world.principal_b), "pair-teachers", "王", agreement=pair.pk).status_code == 404
    assert _search(c, "pair-teachers", "王", agreement="x").status_code == 404
    # the scoped "teachers" source: only the principal's own school
    own = [r["text"] for r in _search(c, "teachers", "王").json()["results"]]
    assert own == [f"王老师 · {world.weak_a.name}"]


def test_the_form_renders_only_chosen_options(world, client_for):
    for i in range(30):
        SchoolFactory(county=world.county_a, code=f"08308{i:05d}", name=f"汶上城区{i}小学")
    page = client_for(world.officer_a).get(reverse("teachers:teacher_create")).content.decode()
    assert 'data-autocomplete="/autocomplete/schools/"' in page
    assert "汶上城区7小学" not in page
