"""Names a reader understands without a map: Minimum -> RequiredMinimum, Milestone -> SchoolMilestone, and
the minimum's ``period`` (semester or school year: an Interval, not a period) -> ``interval``.

RenameModel keeps the rows (the tables are renamed). Django's contenttypes app renames the two
content types in place during ``migrate`` (same ids), so audit entries written before keep their
``content_type_id`` -- the audit hash chain covers that id, not the model's name, and still verifies
-- and the audit log shows them under the renamed model.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("pairing", "0007_agreement_signed_index")]

    operations = [
        migrations.RenameModel("Minimum", "RequiredMinimum"),
        migrations.RenameModel("Milestone", "SchoolMilestone"),
        migrations.RenameField("requiredminimum", "period", "interval"),
    ]
