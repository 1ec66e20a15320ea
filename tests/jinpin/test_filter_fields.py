"""A list's filter fields kept per process as rendered (jinpin_tags.filter_fields): byte for byte what the template
loop wrote, per language, submitted values and the choices offered; never for a form with errors."""

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from jinpin.templatetags import jinpin_tags
from schools.models import County

pytestmark = pytest.mark.django_db

LOOP = Template(
    "{% for field in filter.form %}{% if field.name not in skip %}<label>{{ field.label }} {{ field }}</label>"
    "{% endif %}{% endfor %}"
)

PAGES = [
    ("subsidies:award_list", ""),
    ("subsidies:award_list", "?status=approved&q=%3Cb%3E%27%22"),
    ("subsidies:award_list", "?county=999999"),  # an invalid choice: an error, rendered every time
    ("pairing:agreement_list", ""),
    ("pairing:activity_list", "?kind=lesson"),
    ("schools:school_list", "?o=-pupils"),
    ("schools:village_list", ""),
    ("teachers:teacher_list", "?o=name"),
]


def _expected(response, skip):
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        return LOOP.render(Context({"filter": response.context["filter"], "skip": skip}))


def test_the_kept_fields_are_what_the_loop_wrote(world, client_for):
    jinpin_tags._filter_html.clear()
    for who in ("admin", "officer_a", "admin"):  # two scopes and languages, one copy each: nobody gets another's
        for lang in ("zh-hans", "en"):
            c = client_for(getattr(world, who))
            c.cookies["django_language"] = lang
            for name, query in PAGES:
                skip = ["o"] if name in ("schools:school_list", "teachers:teacher_list") else []
                for _i in range(3):  # rendered, then from the per-process copy (choices kept from the second time)
                    r = c.get(reverse(name) + query)
                    assert r.status_code == 200
                    assert _expected(r, skip) in r.content.decode(), (who, lang, name, query, _i)
    assert jinpin_tags._filter_html


def test_a_renamed_choice_and_an_error_are_rendered_anew(world, client_for):
    c = client_for(world.admin)
    url = reverse("subsidies:award_list")
    for _i in range(3):
        c.get(url)
    kept = len(jinpin_tags._filter_html)
    County.objects.filter(pk=world.county_a.pk).update(name="改名县")
    assert "改名县" in c.get(url).content.decode()
    r = c.get(url + "?county=999999")
    assert r.context["filter"].form.errors and 'aria-invalid="true"' in r.content.decode()
    assert len(jinpin_tags._filter_html) <= kept + 1  # the renamed county's form kept; the one with an error not
