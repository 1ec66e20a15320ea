"""Pages of issue 14 not pinned elsewhere: a constant number of queries, whatever the rows (the home page,
the audit log, the inspections' lists). Measured on the second request (sessions and shared caches warm)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "who, name, queries",
    [
        ("admin", "home", 10),  # 18 before the reference date kept "no records" in the cache too
        ("officer_a", "home", 16),  # twinning and training work counts in the shared cache, the reference date cached
        ("admin", "audit_log", 8),
        ("admin", "inspections:campaign_list", 2),
        ("admin", "inspections:finding_list", 2),
    ],
)
def test_page_queries_are_pinned(world, client_for, django_assert_num_queries, who, name, queries):
    c = client_for(getattr(world, who))
    url = reverse(name)
    assert c.get(url).status_code == 200
    with django_assert_num_queries(queries):
        assert c.get(url).status_code == 200
