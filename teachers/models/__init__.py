"""Teachers: the registry (教师), service history, rotation (交流轮岗), establishment (编制),
targets, training (培训) and rural-service honours (乡村教师荣誉).

Service periods use a half-open interval: a period covers ``[start, end)``; ``end`` is the
first day the teacher is no longer in that post (``None``: still in post). Closing one post
on day D and opening the next on day D therefore never overlaps."""

from .honours import RuralHonourCertificate, RuralHonourTier  # noqa: F401
from .people import HonourTitle, Post, ProfessionalTitle, Sex, Teacher, TeacherQuerySet, TeacherStatus  # noqa: F401
from .service import Movement, MovementKind, MovementStatus, ServiceKind, ServicePeriod, ServicePeriodQuerySet  # noqa: F401
from .staffing import Establishment, Target, TargetMetric  # noqa: F401
from .training import AttendanceSource, TrainingAttendance, TrainingCourse, TrainingLevel, TrainingMode, TrainingRule  # noqa: F401
