import pytest

from jinpin import jobs
from jinpin.models import Job
from schools.models import Stage
from subsidies.models import Period
from subsidies.services import batch
from tests.factories import SchoolFactory, VillageFactory, rural_school


def seed_schemes():
    """The data migrations' 2016 schemes and period (a transactional test's flush removes them)."""
    import importlib

    from django.apps import apps

    for name in ("0002_seed_2016_schemes", "0008_scheme_stages_nine_year_nutrition"):
        importlib.import_module(f"subsidies.migrations.{name}").forward(apps, None)


@pytest.fixture
def period(db):
    seed_schemes()
    return Period.objects.get(code="2016-2017")


@pytest.fixture
def places(world):
    """world + a poor-village kindergarten, a senior high and a non-poor rural junior school in county A."""
    w = world
    w.kinder_a = rural_school(
        county=w.county_a, village=w.village_a, code="0830000003", name="汶上李庄幼儿园", stage=Stage.KINDERGARTEN
    )
    w.senior_a = SchoolFactory(county=w.county_a, code="0830000004", name="汶上一中", stage=Stage.SENIOR)
    w.plain_village_a = VillageFactory(town=w.town_a, code="370830003099", poverty="none")
    w.junior_a = rural_school(
        county=w.county_a, village=w.plain_village_a, code="0830000005", name="汶上王楼中学", stage=Stage.JUNIOR
    )
    return w


def run_batch(period, county=None, user=None, chunk_size=None):
    """Run a batch job synchronously (eager Celery for the helper tasks); returns the finished Job."""
    from schools.models import Membership

    user = user or Membership.objects.filter(role="city_admin").first().user
    params = {"period": period.pk, "county": county.pk if county else None}
    if chunk_size:
        params["chunk_size"] = chunk_size
    job = Job.objects.create(kind=batch.JOB_KIND, params=params, title="batch", created_by=user)
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    return job
