from django.urls import path

from . import views

app_name = "pairing"
urlpatterns = [
    path("", views.agreement_list, name="agreement_list"),
    path("new/", views.agreement_create, name="agreement_create"),
    path("<int:pk>/", views.agreement_detail, name="agreement_detail"),
    path("<int:pk>/edit/", views.agreement_edit, name="agreement_edit"),
    path("<int:pk>/activate/", views.agreement_activate, name="agreement_activate"),
    path("<int:pk>/end/", views.agreement_end, name="agreement_end"),
    path("<int:pk>/document/", views.agreement_document, name="agreement_document"),
    path("<int:pk>/log/", views.activity_create, name="activity_create"),
    path("<int:pk>/secondments/new/", views.secondment_create, name="secondment_create"),
    path("<int:pk>/projects/new/", views.project_create, name="project_create"),
    path("<int:pk>/donations/new/", views.donation_create, name="donation_create"),
    path("<int:pk>/milestones/<int:school_pk>/", views.milestone_set, name="milestone_set"),
    path("secondments/<int:pk>/end/", views.secondment_end, name="secondment_end"),
    path("activities/", views.activity_list, name="activity_list"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("files/<int:pk>/", views.attachment_file, name="attachment_file"),
    path("milestone-documents/<int:pk>/", views.milestone_document, name="milestone_document"),
    path("donations/", views.donation_list, name="donation_list"),
    path("donations/<int:pk>/confirm/", views.donation_confirm, name="donation_confirm"),
    path("compliance/", views.compliance_page, name="compliance"),
    path("coverage/", views.coverage, name="coverage"),
    path("export/<slug:kind>/", views.export, name="export"),
]
