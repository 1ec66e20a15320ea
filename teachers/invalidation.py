"""When cached teacher figures (training compliance summaries, the home panel) go stale: any
committed write to teachers, their service, training, honours or to schools and villages moves
the "teachers" stamp (jinpin/cache.py). Saves and deletes are caught by signal; the bulk writes
(the training-hours import, issuing certificates) call ``bump`` themselves.
"""

from django.db.models.signals import post_delete, post_save

from jinpin import cache

AREA = "teachers"


def bump(*args, **kwargs):
    cache.bump(AREA)


def connect():
    from schools.models import School, Village

    from .models import (
        Movement,
        RuralHonourCertificate,
        RuralHonourTier,
        ServicePeriod,
        Teacher,
        TrainingAttendance,
        TrainingCourse,
        TrainingRule,
    )

    for model in (
        Teacher,
        ServicePeriod,
        Movement,
        TrainingAttendance,
        TrainingCourse,
        TrainingRule,
        RuralHonourCertificate,
        RuralHonourTier,
        School,
        Village,
    ):
        post_save.connect(bump, sender=model, dispatch_uid=f"teachers-stamp-save-{model.__name__}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"teachers-stamp-delete-{model.__name__}")
