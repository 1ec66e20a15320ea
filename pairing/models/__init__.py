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
    Milestone,
    MilestoneKind,
    MilestoneStatus,
)
from .calendar import SchoolYear, Semester
from .compliance import ComplianceStamp, Evidence, Interval, Minimum

__all__ = [
    "Agreement",
    "AgreementForm",
    "AgreementSchool",
    "AgreementStatus",
    "Milestone",
    "MilestoneKind",
    "MilestoneStatus",
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
    "Minimum",
    "Interval",
]
