"""Views of the teachers app, split by subdomain."""

from .honours import honour_export, honour_issue, honours  # noqa: F401
from .movements import movement_create, movement_detail, movement_export, movement_list, movement_transition  # noqa: F401
from .registry import (  # noqa: F401
    home_panel,
    period_add,
    period_close,
    teacher_create,
    teacher_detail,
    teacher_edit,
    teacher_export,
    teacher_list,
)
from .staffing import establishment_edit, targets, vacancies  # noqa: F401
from .training import (  # noqa: F401
    attendance_create,
    compliance,
    compliance_export,
    course_create,
    course_detail,
    course_list,
    import_hours,
    import_template,
)
