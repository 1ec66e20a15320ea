"""结对帮扶 school twinning: agreements, the activity log, and the minimums they are held to."""

from .activities import (
    Activity,
    ActivityKind,
    Attachment,
    Direction,
    Donation,
    DonationCategory,
    JointProject,
    ProjectStatus,
    Secondment,
)
from .agreements import (
    Agreement,
    AgreementForm,
    AgreementSchool,
    AgreementStatus,
    SchoolMilestone,
    SchoolMilestoneKind,
    SchoolMilestoneStatus,
)
from .calendar import SchoolYear, Semester
from .minimums import ComplianceStamp, Evidence, Interval, RequiredMinimum

__all__ = [
    "Agreement",
    "AgreementForm",
    "AgreementSchool",
    "AgreementStatus",
    "SchoolMilestone",
    "SchoolMilestoneKind",
    "SchoolMilestoneStatus",
    "Activity",
    "ActivityKind",
    "Attachment",
    "Direction",
    "Donation",
    "DonationCategory",
    "JointProject",
    "ProjectStatus",
    "Secondment",
    "SchoolYear",
    "Semester",
    "ComplianceStamp",
    "Evidence",
    "RequiredMinimum",
    "Interval",
]
