from django.urls import path

from . import views

app_name = "subsidies"
urlpatterns = [
    path("", views.award_list, name="award_list"),
    path("awards/<int:pk>/", views.award_detail, name="award_detail"),
    path("awards/<int:pk>/resolve/", views.award_resolve, name="award_resolve"),
    path("awards/action/", views.award_action, name="award_action"),
    path("awards/export/", views.award_export, name="award_export"),
    path("households/", views.household_list, name="household_list"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("students/", views.student_list, name="student_list"),
    path("batch/", views.batch_page, name="batch"),
    path("batch/<int:pk>/", views.run_detail, name="run_detail"),
    path("allocations/", views.allocation_list, name="allocation_list"),
    path("schemes/", views.scheme_list, name="scheme_list"),
    path("schemes/new/", views.scheme_edit, name="scheme_create"),
    path("schemes/<int:pk>/edit/", views.scheme_edit, name="scheme_edit"),
    path("schemes/<int:pk>/rates/new/", views.rate_create, name="rate_create"),
    path("awards/<int:pk>/recover/", views.award_recover, name="award_recover"),
    path("payouts/", views.payout_list, name="payout_list"),
    path("payouts/<int:pk>/", views.payout_detail, name="payout_detail"),
    path("payouts/<int:pk>/send/", views.payout_send, name="payout_send"),
    path("payouts/<int:pk>/bank-file/", views.payout_bank_file, name="payout_bank_file"),
    path("payouts/<int:pk>/verify/", views.payout_verify, name="payout_verify"),
    path("payouts/<int:pk>/return/", views.payout_return, name="payout_return"),
    path("recoveries/", views.recovery_list, name="recovery_list"),
    path("recoveries/<int:pk>/settle/", views.recovery_settle, name="recovery_settle"),
    path("reconciliation/", views.reconciliation_page, name="reconciliation"),
    path("import/<slug:kind>/", views.import_upload, name="import"),
    path("import/<slug:kind>/template/", views.import_template, name="import_template"),
    path("matching/", views.matching_page, name="matching"),
    path("anomalies/", views.anomaly_page, name="anomalies"),
    path("loans/", views.loan_list, name="loan_list"),
    path("loans/<int:pk>/disburse/", views.loan_disburse, name="loan_disburse"),
]
