"""When cached subsidy figures (reconciliation, the home panel, the dashboards) go stale: any committed write
to awards, allocations, payouts, recoveries or loans, or to what the "pupils aided" figure reads (households,
their registry status, pupils, villages' poverty designation), moves the "subsidies" stamp (jinpin/cache.py).

Single-object saves and deletes are caught here by signal; the set-based writes that send no
signal (the batch's SQL, bulk status moves, the bank's return file) call ``bump`` themselves.
"""

from django.db.models.signals import post_delete, post_save

from jinpin import cache

AREA = "subsidies"


def bump(*args, **kwargs):
    cache.bump(AREA)


def connect():
    from schools.models import Village

    from .models import (
        Allocation,
        Award,
        Household,
        HouseholdStatus,
        LoanApplication,
        PayoutBatch,
        PayoutLine,
        Recovery,
        Student,
    )

    for model in (
        Award,
        Allocation,
        PayoutBatch,
        PayoutLine,
        Recovery,
        LoanApplication,
        Household,
        HouseholdStatus,
        Student,
        Village,
    ):
        post_save.connect(bump, sender=model, dispatch_uid=f"subsidies-stamp-save-{model.__name__}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"subsidies-stamp-delete-{model.__name__}")
