"""The layout's header kept per language, role, scope and page (jinpin_tags.layout_header): every request gets the
bytes the header template gives it, with its own CSRF token, name and path."""

import pytest
from django.template.loader import get_template
from django.urls import reverse

from jinpin.templatetags import jinpin_tags

pytestmark = pytest.mark.django_db

HOSTILE = '<b>O\'Neil & "Co"</b>'


def _header(html: str) -> str:
    start = html.index('<a class="skip-link"')
    return html[start : html.index("\n<main", start)]


def _direct(response) -> str:
    """The header template rendered for this response's own context (no stand-ins, nothing kept)."""
    from django.test.utils import ContextList

    context = response.context[0] if isinstance(response.context, ContextList) else response.context
    with context.push(next_path=response.wsgi_request.get_full_path()):
        return get_template("includes/header.html").template.render(context)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_kept_header_is_what_the_template_gives_each_request(world, client_for, language):
    jinpin_tags._headers.clear()
    world.officer_a.first_name = HOSTILE
    world.officer_a.save(update_fields=["first_name"])
    pages = [reverse("home"), reverse("subsidies:award_list") + "?q=%3Cb%3E&scheme=", reverse("schools:school_list")]
    seen = {}
    for user in (world.admin, world.officer_a, world.principal_a, world.inspector, world.auditor):
        c = client_for(user)
        if language == "en":
            c.post(reverse("set_language"), {"language": "en", "next": "/"})
        for url in pages:
            for _ in range(2):  # the first renders and keeps it, the second fills in the kept one
                r = c.get(url)
                if r.status_code != 200:
                    break
                html = r.content.decode()
                header = _header(html)
                assert header == _direct(r), (user.username, url)
                token = r.context["csrf_token"]
                assert header.count(f'name="csrfmiddlewaretoken" value="{token}"') == 2
                seen[(user.username, url)] = header
    assert len(jinpin_tags._headers) >= 10  # kept per role and page
    officer = seen[(world.officer_a.username, pages[1])]
    assert "&lt;b&gt;O&#x27;Neil &amp; &quot;Co&quot;&lt;/b&gt;" in officer and HOSTILE not in officer
    assert 'value="/subsidies/?q=%3Cb%3E&amp;scheme="' in officer
    admin = seen[(world.admin.username, pages[1])]
    assert world.officer_a.first_name not in admin and "&lt;b&gt;O&#x27;Neil" not in admin  # nobody else's name


def test_a_page_without_a_request_renders_the_header_as_the_template_does(world):
    html = get_template("base.html").render({})
    assert '<a class="skip-link"' in html and "csrfmiddlewaretoken" not in html
