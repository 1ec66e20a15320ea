"""Views of the subsidies app, split by area."""

from .awards import award_action, award_detail, award_export, award_list, award_resolve, home_panel  # noqa: F401
from .batch import allocation_list, batch_page, rate_create, run_detail, scheme_edit, scheme_list  # noqa: F401
from .imports import import_template, import_upload, matching_page  # noqa: F401
from .payouts import (  # noqa: F401
    anomaly_page,
    award_recover,
    loan_disburse,
    loan_list,
    payout_bank_file,
    payout_detail,
    payout_list,
    payout_return,
    payout_send,
    payout_verify,
    reconciliation_page,
    recovery_list,
    recovery_settle,
)
from .registry import (  # noqa: F401
    household_detail,
    household_list,
    payment_change_decide,
    payment_change_list,
    payment_change_request,
    student_detail,
    student_edit,
    student_list,
    students_promote,
    transfer_create,
    transfer_decide,
    transfer_list,
)
