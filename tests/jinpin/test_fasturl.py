"""``{% url %}`` reversing each name once per process (jinpin.templatetags.fasturl): the same strings as Django's tag."""

import pytest
from django.template import Context, Engine, Template, engines
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.utils import translation

from jinpin.templatetags.fasturl import CachedURLNode


def _render(src, **ctx):
    return engines["django"].from_string(src).render(ctx)


def test_the_project_templates_use_the_cached_tag():
    t = engines["django"].from_string("{% url 'home' %}")
    assert any(isinstance(n, CachedURLNode) for n in t.template.nodelist)


@pytest.mark.parametrize(
    "src, ctx, expected",
    [
        ("{% url 'home' %}", {}, lambda: reverse("home")),
        ("{% url 'subsidies:award_list' %}", {}, lambda: reverse("subsidies:award_list")),
        (
            "{% url 'subsidies:award_detail' pk %}",
            {"pk": 12345},
            lambda: reverse("subsidies:award_detail", args=[12345]),
        ),
        ("{% url 'subsidies:award_detail' pk %}", {"pk": "77"}, lambda: reverse("subsidies:award_detail", args=["77"])),
        ("{% url 'work_list' key %}", {"key": "a-b"}, lambda: reverse("work_list", args=["a-b"])),
        ("{% url 'subsidies:import' 'students' %}", {}, lambda: reverse("subsidies:import", args=["students"])),
        ("{% url 'home' as u %}[{{ u }}]", {}, lambda: f"[{reverse('home')}]"),
        ("{% url 'no-such-view' as u %}[{{ u }}]", {}, lambda: "[]"),
    ],
)
def test_the_same_url_as_djangos_tag(src, ctx, expected):
    for _ in range(2):  # the first reverses, the second is read from the process's table
        assert _render(src, **ctx) == expected()
    plain = Template(src, engine=Engine(builtins=[]))  # Django's own tag
    assert plain.render(Context(ctx)) == expected()


def test_a_name_that_does_not_reverse_raises_as_django_does():
    with pytest.raises(NoReverseMatch):
        _render("{% url 'no-such-view' %}")
    with pytest.raises(NoReverseMatch):
        _render("{% url 'subsidies:award_detail' pk %}", pk=-1)


def test_the_script_prefix_and_the_language_are_part_of_the_key():
    first = _render("{% url 'home' %}")
    set_script_prefix("/jinpin/")
    try:
        assert _render("{% url 'home' %}") == reverse("home") == "/jinpin" + first
        detail = _render("{% url 'subsidies:award_detail' 5 %}")
        assert detail == reverse("subsidies:award_detail", args=[5]) and detail.startswith("/jinpin/")
    finally:
        set_script_prefix("/")
    assert _render("{% url 'home' %}") == first
    with translation.override("en"):
        assert _render("{% url 'home' %}") == reverse("home")


def test_escaped_like_djangos_tag():
    req = RequestFactory().get("/")
    out = engines["django"].from_string("<a href=\"{% url 'home' %}\">").render({}, request=req)
    assert out == f'<a href="{reverse("home")}">'
