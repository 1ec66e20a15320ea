"""Migration pairing.0008 renames Minimum -> RequiredMinimum and Milestone -> SchoolMilestone: the rows stay,
audit entries written under the old names keep their content type (renamed in place), show under the new
model, and the audit hash chain still verifies."""

import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from jinpin import audit, auditchain
from jinpin.scope import Role
from pairing.models import RequiredMinimum, SchoolMilestone
from tests.factories import SchoolFactory, make_user

BEFORE = ("pairing", "0007_agreement_signed_index")
AFTER = ("pairing", "0008_rename_minimum_milestone_interval")


def migrate_to(target):
    call_command("migrate", target[0], target[1], verbosity=0, stdout=io.StringIO())
    ContentType.objects.clear_cache()


@pytest.mark.django_db(transaction=True)
def test_rows_and_audit_entries_written_under_the_old_names_survive_the_rename(client):
    school = SchoolFactory()
    admin = make_user(Role.CITY_ADMIN)
    earlier = audit.LogEntry.objects.count()  # entries about the school and the user, if any
    migrate_to(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        Minimum, Milestone = old.get_model("pairing", "Minimum"), old.get_model("pairing", "Milestone")
        minimum = Minimum.objects.create(code="old_rule", name="旧规则", evidence="projects", period="year", required=2)
        milestone = Milestone.objects.create(school_id=school.pk, kind="plan", status="drafted")
        # entries as the code wrote them before: one by log(), one by the bulk writer, each under the old name
        audit.log(minimum, action=audit.Action.UPDATE, actor=admin, changes={"required": ["1", "2"]})
        audit.log_many(Milestone, [(milestone.pk, "旧里程碑", {"status": ["", "drafted"]})], action=0, actor=admin)
        old_types = {ContentType.objects.get(app_label="pairing", model=m).pk for m in ("minimum", "milestone")}
        ours = audit.LogEntry.objects.order_by("pk")[earlier:]
        assert len(ours) == 2 and {e.content_type_id for e in ours} == old_types
        before = auditchain.verify_chain()
        assert before.ok and before.checked == earlier + 2, before.problems
    finally:
        migrate_to(AFTER)

    assert RequiredMinimum.objects.values_list("required", "interval").get(code="old_rule") == (2, "year")
    assert SchoolMilestone.objects.get(pk=milestone.pk).school_id == school.pk
    # the same content type rows, renamed: the chain covers their ids, not the names
    renamed = {ContentType.objects.get_for_model(m).pk for m in (RequiredMinimum, SchoolMilestone)}
    assert renamed == old_types
    assert not ContentType.objects.filter(app_label="pairing", model__in=["minimum", "milestone"]).exists()
    entries = audit.LogEntry.objects.order_by("pk")[earlier:]
    assert [e.content_type.model_class() for e in entries] == [RequiredMinimum, SchoolMilestone]
    after = auditchain.verify_chain()
    assert after.ok and after.checked == earlier + 2 and after.head_hash == before.head_hash, after.problems
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "audit trail intact" in out.getvalue()
    # the audit log shows them, and filters by the model's new name
    client.force_login(admin)
    page = client.get(reverse("audit_log"), {"model": "requiredminimum"}).content.decode()
    assert entries[0].object_repr in page and "旧里程碑" not in page  # a historical model has no __str__
    assert "旧里程碑" in client.get(reverse("audit_log"), {"model": "schoolmilestone"}).content.decode()
