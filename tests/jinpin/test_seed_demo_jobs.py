"""``seed_demo --jobs 2`` (what ``make run`` uses): the staff side is built in a second process after the
shared seeders, the rest in this one; a failure on either side fails the command."""

import io
import os

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from jinpin import registry
from pairing.models import Agreement
from teachers.models import Teacher

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reference_data"),
]  # the forked process sees only committed rows

ONLY = "seed_places,seed_users,seed_teachers,seed_pairing"


def _recording(tmp_path, monkeypatch, fail=None):
    """Wrap the registry's seeders (names kept) so that each writes the pid it ran in to a file."""
    real = registry.seeders()

    def wrap(name, fn):
        def seeder(stdout, scale):
            with open(tmp_path / "pids", "a") as fh:
                fh.write(f"{name} {os.getpid()}\n")
            if name == fail:
                raise RuntimeError("boom")
            fn(stdout, scale)

        return seeder

    monkeypatch.setattr(registry, "seeders", lambda: [(n, wrap(n, f)) for n, f in real])


def test_staff_side_runs_in_a_second_process_and_lands_in_the_database(tmp_path, monkeypatch):
    _recording(tmp_path, monkeypatch)
    out = io.StringIO()
    call_command("seed_demo", only=ONLY, jobs=2, stdout=out)
    pids = dict(line.split() for line in (tmp_path / "pids").read_text().splitlines())
    me = str(os.getpid())
    assert pids["schools.demo.seed_places"] == me
    assert pids["schools.demo.seed_users"] == me
    assert pids["teachers.demo.seed_teachers"] != me
    assert pids["pairing.demo.seed_pairing"] == pids["teachers.demo.seed_teachers"]
    assert Teacher.objects.count() > 1000
    assert Agreement.objects.count() > 100
    assert get_user_model().objects.filter(username="officer_wenshang").exists()
    assert "演示数据已就绪" in out.getvalue()  # the closing summary, counted after both processes finished
    # the demo logins share one password hash (hashed once), and it is the demo password
    user = get_user_model().objects.get(username="auditor")
    assert user.check_password("Jinpin@2016")
    assert get_user_model().objects.values("password").distinct().count() == 1


def test_a_failing_staff_lane_fails_the_command(tmp_path, monkeypatch):
    _recording(tmp_path, monkeypatch, fail="teachers.demo.seed_teachers")
    with pytest.raises(CommandError, match="staff lane"):
        call_command("seed_demo", only=ONLY, jobs=2, stdout=io.StringIO())
    assert not Teacher.objects.exists()


def test_an_unknown_seeder_makes_it_run_in_one_process(tmp_path, monkeypatch):
    real = registry.seeders()

    def extra(stdout, scale):
        pass

    monkeypatch.setattr(registry, "seeders", lambda: [*real, ("newapp.demo.seed_new", extra)])
    _recording(tmp_path, monkeypatch)
    call_command("seed_demo", only="seed_places,seed_users,seed_teachers,seed_new", jobs=2, stdout=io.StringIO())
    pids = dict(line.split() for line in (tmp_path / "pids").read_text().splitlines())
    assert set(pids.values()) == {str(os.getpid())}
    assert "newapp.demo.seed_new" in pids


def _fake_inspections_and_subsidies(tmp_path, monkeypatch, *, inspections_fail=False):
    """The inspection campaign (second lane) slower than the subsidy year (this lane); each notes its commit."""
    import time

    from django.db import transaction

    log = tmp_path / "commits"

    def note(text):
        with open(log, "a") as fh:
            fh.write(text + "\n")

    def inspections(stdout, scale):
        time.sleep(1.5)
        if inspections_fail:
            raise RuntimeError("boom")
        transaction.on_commit(lambda: note(f"inspections {os.getpid()}"))

    def subsidies(stdout, scale):
        transaction.on_commit(lambda: note(f"subsidies {os.getpid()}"))

    fakes = {"inspections.demo.seed_inspections": inspections, "subsidies.demo.seed_subsidies": subsidies}
    real = registry.seeders()
    monkeypatch.setattr(registry, "seeders", lambda: [(n, fakes.get(n, f)) for n, f in real])
    return log


def test_the_subsidy_year_commits_after_the_inspection_campaign(tmp_path, monkeypatch):
    """The campaign draws from 汶上县's poor households, to which the subsidy year adds: in two lanes the subsidy
    year waits for the campaign's commit, so the draw sees what it sees with --jobs 1 (inspections first)."""
    log = _fake_inspections_and_subsidies(tmp_path, monkeypatch)
    only = "seed_places,seed_users,seed_inspections,seed_subsidies"
    call_command("seed_demo", only=only, jobs=2, stdout=io.StringIO())
    commits = [line.split() for line in log.read_text().splitlines()]
    assert [name for name, _pid in commits] == ["inspections", "subsidies"]
    assert dict(commits)["subsidies"] == str(os.getpid())
    assert dict(commits)["inspections"] != str(os.getpid())


def test_the_subsidy_year_does_not_commit_when_the_inspection_campaign_fails(tmp_path, monkeypatch):
    log = _fake_inspections_and_subsidies(tmp_path, monkeypatch, inspections_fail=True)
    with pytest.raises(CommandError):
        call_command(
            "seed_demo", only="seed_places,seed_users,seed_inspections,seed_subsidies", jobs=2, stdout=io.StringIO()
        )
    assert not log.exists()
