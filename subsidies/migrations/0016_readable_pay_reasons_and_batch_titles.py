"""Old pay steps read "payout batch N" and old batch jobs "batch 2016-2017" (issue 13): rewrite them
as the code now writes them, in the site's language."""


from django.conf import settings
from django.db import migrations
from django.utils import translation


def forward(apps, schema_editor):
    from django.utils.translation import gettext as _

    AwardStep = apps.get_model("subsidies", "AwardStep")
    Job = apps.get_model("jinpin", "Job")
    Period = apps.get_model("subsidies", "Period")
    County = apps.get_model("schools", "County")
    with translation.override(settings.LANGUAGE_CODE):
        for reason in AwardStep.objects.filter(reason__regex=r"^payout batch [0-9]+$").values_list("reason", flat=True).distinct():
            n = reason.rsplit(" ", 1)[1]
            AwardStep.objects.filter(reason=reason).update(reason=_("Paid in payout batch %(n)s") % {"n": n})
        periods = {p.code: p.name for p in Period.objects.all()}
        for job in Job.objects.filter(kind="subsidies.batch", title__regex=r"^batch "):
            code = job.title[len("batch ") :]
            county_id = (job.params or {}).get("county")
            where = County.objects.filter(pk=county_id).values_list("name", flat=True).first() if county_id else None
            title = _("Subsidy batch %(period)s · %(where)s") % {
                "period": periods.get(code, code),
                "where": where or _("the whole city"),
            }
            Job.objects.filter(pk=job.pk).update(title=title[:200])


class Migration(migrations.Migration):
    dependencies = [
        ("subsidies", "0015_name_characters_indexes"),
        ("jinpin", "0005_job_heartbeat_outbox_row_errors"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
