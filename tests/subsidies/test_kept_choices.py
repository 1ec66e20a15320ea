"""A list's drop-down choices kept in the shared cache while their tables are unchanged (jinpin.filters.kept_choices),
the session read from the shared cache (cached_db) and the user read with their membership (jinpin.accounts)."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from subsidies.models import Period

from .factories import period_2017

pytestmark = pytest.mark.django_db


def _tables_read(client, url):
    with CaptureQueriesContext(connection) as q:
        r = client.get(url)
    assert r.status_code == 200
    return r, "\n".join(x["sql"] for x in q.captured_queries)


def test_choices_are_kept_until_their_table_is_written(world, period, client_for):
    assert settings.CACHES["default"]["BACKEND"] == "jinpin.cache.PrefixedRedisCache"  # what make test runs on
    c = client_for(world.admin)
    url = reverse("subsidies:award_list")
    _r, sql = _tables_read(c, url)
    assert 'FROM "subsidies_period"' in sql  # the first request reads the choices and notes their tables
    _r, sql = _tables_read(c, url)
    assert 'FROM "subsidies_period"' in sql  # the second reads them again and keeps them (stamps read before)
    r, sql = _tables_read(c, url)
    assert 'FROM "subsidies_period"' not in sql
    assert 'FROM "subsidies_scheme"' not in sql and 'FROM "schools_county"' not in sql
    form = r.context["filter"].form
    assert [label for _v, label in form.fields["period"].choices] == ["全部", period.name]
    assert f'<option value="{period.pk}">{period.name}</option>' in r.content.decode()
    # a new period (a write to its table moves the table's stamp): shown on the very next request
    new = period_2017()
    r, sql = _tables_read(c, url)
    assert 'FROM "subsidies_period"' in sql
    assert f'<option value="{new.pk}">2017—2018学年</option>' in r.content.decode()
    # a renamed one too
    Period.objects.filter(pk=period.pk).update(name="改名的学年")
    r, _sql = _tables_read(c, url)
    assert "改名的学年" in r.content.decode() and period.name not in r.content.decode()


def test_kept_choices_follow_the_scope_and_the_language(world, period, client_for):
    url = reverse("subsidies:award_list")
    a, b = client_for(world.officer_a), client_for(world.officer_b)
    for _ in range(3):
        ra, rb = a.get(url), b.get(url)
    counties = lambda r: [label for _v, label in r.context["filter"].form.fields["county"].choices]  # noqa: E731
    assert counties(ra) == ["全部", world.county_a.name]
    assert counties(rb) == ["全部", world.county_b.name]
    a.post(reverse("set_language"), {"language": "en", "next": url})
    for _ in range(3):
        r = a.get(url)
    assert counties(r) == ["All", world.county_a.name]


def test_a_chosen_value_is_still_checked_against_the_database(world, period, client_for):
    """A kept list is only what the drop-down shows: a value is validated by a query, so another county's id, or a
    period deleted a moment ago, is refused even while the list is kept."""
    c = client_for(world.officer_a)
    url = reverse("subsidies:award_list")
    for _ in range(3):
        c.get(url)
    r = c.get(url, {"county": world.county_b.pk})
    assert r.status_code == 200 and r.context["filter"].form.errors.get("county")
    gone = period_2017()
    for _ in range(3):
        c.get(url)
    Period.objects.filter(pk=gone.pk).delete()
    r = c.get(url, {"period": gone.pk})
    assert r.context["filter"].form.errors.get("period")


@pytest.mark.page_cache
def test_a_kept_page_learns_the_tables_of_kept_choices(world, period, client_for):
    """A kept page whose choices came from the cache still depends on the choices' tables: a new period is shown."""
    c = client_for(world.admin)
    url = reverse("subsidies:award_list")
    for _ in range(4):
        r = c.get(url)
    assert r["X-Page-Cache"] == "hit"
    new = period_2017()
    r = c.get(url)
    assert r["X-Page-Cache"] != "hit"
    assert f'<option value="{new.pk}">2017—2018学年</option>' in r.content.decode()


def test_the_session_is_read_from_the_shared_cache_and_a_logout_ends_it(world, client_for):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    c = client_for(world.officer_a)
    url = reverse("home")
    c.get(url)
    _r, sql = _tables_read(c, url)
    assert '"django_session"' not in sql  # the session from the cache
    assert 'FROM "schools_membership"' not in sql  # joined to the user's own query: no query of its own
    assert 'FROM "auth_user" LEFT OUTER JOIN "schools_membership"' in sql
    key = c.cookies[settings.SESSION_COOKIE_NAME].value
    c.post(reverse("logout"))
    from django.contrib.sessions.backends.cached_db import SessionStore

    assert not SessionStore().exists(key)  # neither in the cache nor in the database
    stolen = client_for(world.officer_b)
    stolen.cookies[settings.SESSION_COOKIE_NAME] = key  # the old cookie replayed: no longer signed in
    assert stolen.get(url).status_code == 302


def test_a_deactivated_membership_or_user_is_seen_at_once(world, client_for):
    c = client_for(world.officer_a)
    url = reverse("subsidies:award_list")
    assert c.get(url).status_code == 200
    world.officer_a.membership.is_active = False
    world.officer_a.membership.save()
    assert c.get(url).status_code == 403  # no role any more, on the very next request
    world.officer_a.is_active = False
    world.officer_a.save()
    assert c.get(url).status_code == 302  # signed out
