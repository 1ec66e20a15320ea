"""The list rows rendered by Jinja2 (``jinpin.jinja``) are byte for byte what the Django templates wrote.

``tests/jinpin/dtl_rows/`` keeps each replaced Django ``{% for %}`` block as it was. Every list page
that uses ``{% rows %}`` is fetched as every role and in both languages; in each request the rows are
rendered by Jinja2 and by their Django twin with the same context, and the two must be identical.
Names carry HTML's special characters, so escaping is compared too.
"""

from pathlib import Path

import pytest
from django.template import Context, Engine
from django.utils.html import escape

from jinpin import jinja

TWINS = Path(__file__).resolve().parent / "dtl_rows"
ROWS = sorted(p.relative_to(TWINS).with_suffix(".jinja").as_posix() for p in TWINS.rglob("*.html"))
HOSTILE = '<b>O\'Neil & "Co"</b>'


def _twin(name, context):
    source = (TWINS / name).with_suffix(".html").read_text()
    return Engine.get_default().from_string(source).render(Context(context))


def _urls(w):
    from subsidies.models import PayoutBatch

    payout = PayoutBatch.objects.order_by("pk").first()
    return [
        "/subsidies/",
        "/subsidies/?o=-amount",
        "/subsidies/households/",
        "/subsidies/students/",
        f"/subsidies/payouts/{payout.pk}/",
        "/audit/",
        "/pairing/",
        "/pairing/activities/",
        "/pairing/compliance/",
        "/schools/",
        "/teachers/",
        "/teachers/training/compliance/",
        f"/teachers/training/compliance/?school={w.weak_a.pk}",
        "/subsidies/?q=nobody-has-this-name",  # the empty branch
        "/teachers/?q=nobody-has-this-name",
    ]


def test_every_rows_template_has_its_django_twin():
    templates = Path(jinja.__file__).resolve().parents[1] / "templates"
    names = {p.relative_to(templates).as_posix() for p in templates.rglob("*.jinja")}
    assert names == set(ROWS)
    assert len(ROWS) >= 10


@pytest.mark.django_db
def test_jinja_rows_give_the_bytes_of_the_django_templates(populated, client_for, monkeypatch):
    from pairing.models import Agreement
    from schools.models import School
    from subsidies.models import Student
    from teachers.models import Teacher

    w = populated
    # HTML's special characters in the names every list shows
    School.objects.filter(pk=w.weak_a.pk).update(name=f"汶上{HOSTILE}小学")
    Student.objects.filter(pk__in=Student.objects.order_by("pk").values("pk")[:2]).update(name=f"学生{HOSTILE}")
    Teacher.objects.filter(pk__in=Teacher.objects.order_by("pk").values("pk")[:2]).update(subject=HOSTILE)
    assert Agreement.objects.exists()

    rendered, mismatches = {}, []
    real = jinja.render

    def both(name, context):
        """The rows as they run (Jinja2) and as their Django twin writes them, in the same request."""
        fast, slow = real(name, context), _twin(name, context)
        if fast != slow:
            mismatches.append((name, fast, slow))
        rendered.setdefault(name, []).append(fast.count("<tr"))
        return fast

    monkeypatch.setattr(jinja, "render", both)
    pages, hostile_seen = 0, False
    for role in ("admin", "officer_a", "principal_a", "inspector", "auditor"):
        client = client_for(getattr(w, role))
        for lang in ("zh-hans", "en"):
            client.cookies["django_language"] = lang
            for url in _urls(w):
                response = client.get(url)
                if response.status_code == 200:
                    pages += 1
                    hostile_seen |= escape(HOSTILE) in response.content.decode()
                assert not mismatches, f"{role} {lang} {url}: {mismatches[0]}"
    assert pages >= 40
    # every rows template was compared, each with rows in it at least once
    assert set(rendered) == set(ROWS), set(ROWS) - set(rendered)
    assert all(max(counts) > 0 for counts in rendered.values()), rendered
    assert hostile_seen  # the names were on the pages, escaped


def test_printed_values_are_escaped_as_django_escapes_them():
    from django.utils.safestring import mark_safe

    env = jinja.environment()
    t = env.from_string("{{ a }}|{{ b }}|{{ c }}|{{ d }}|{{ e|default('—', true) }}")
    out = t.render(a=HOSTILE, b=mark_safe("<i>ok</i>"), c=None, d=1234567, e="")
    assert out == f"{escape(HOSTILE)}|<i>ok</i>|None|1234567|—"
    assert "&#x27;" in out and "&quot;" in out  # Django's entities, not markupsafe's &#39; / &#34;
