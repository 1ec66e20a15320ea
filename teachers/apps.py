from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeachersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "teachers"
    verbose_name = _("Teachers")

    def ready(self):
        from jinpin import audit

        from . import scoping
        from .models import (
            Establishment,
            HonourTitle,
            Movement,
            RuralHonourCertificate,
            RuralHonourTier,
            ServicePeriod,
            Target,
            Teacher,
            TrainingAttendance,
            TrainingCourse,
            TrainingRule,
        )

        scoping.register_all()
        audit.register(Teacher, m2m_fields={"honours"})
        for model in (
            ServicePeriod, Movement, HonourTitle, Establishment, Target, TrainingCourse, TrainingAttendance,
            TrainingRule, RuralHonourTier, RuralHonourCertificate,
        ):
            audit.register(model)
