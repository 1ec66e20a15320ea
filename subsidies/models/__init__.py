"""精准救助 models, split by subdomain: the registry, schemes and rates, awards and their process."""

from .anomalies import AnomalyRow, AnomalySnapshot
from .awards import Award, AwardStatus, AwardStep, BatchChange, BatchChunk, BatchRun
from .funds import Allocation
from .matching import MatchItem, MatchRun
from .payouts import LoanApplication, LoanLevel, PayoutBatch, PayoutLine, Recovery
from .registry import (
    POOR_STATUSES,
    Enrolment,
    EnrolmentConflict,
    Household,
    HouseholdStatus,
    Student,
)
from .schemes import AmountRule, FundingSource, Group, Period, RateVersion, Scheme, SchemeKind
from .transfers import PaymentDetailChange, PupilTransfer, RequestStatus

__all__ = [
    "AnomalySnapshot",
    "AnomalyRow",
    "POOR_STATUSES",
    "Household",
    "HouseholdStatus",
    "Student",
    "Enrolment",
    "EnrolmentConflict",
    "PupilTransfer",
    "PaymentDetailChange",
    "RequestStatus",
    "Scheme",
    "SchemeKind",
    "FundingSource",
    "AmountRule",
    "Group",
    "RateVersion",
    "Period",
    "Award",
    "AwardStatus",
    "AwardStep",
    "BatchRun",
    "BatchChunk",
    "BatchChange",
    "Allocation",
    "MatchRun",
    "MatchItem",
    "PayoutBatch",
    "PayoutLine",
    "Recovery",
    "LoanApplication",
    "LoanLevel",
]
