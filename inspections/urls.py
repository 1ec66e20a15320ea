from django.urls import path

from . import views

app_name = "inspections"
urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("lists/<str:kind>/", views.list_rows, name="list_rows"),
    path("lists/<str:kind>/new/", views.list_row_edit, name="list_row_new"),
    path("lists/<str:kind>/<int:pk>/", views.list_row_edit, name="list_row_edit"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:campaign_pk>/groups/new/", views.group_edit, name="group_new"),
    path("groups/<int:pk>/edit/", views.group_edit, name="group_edit"),
    path("campaigns/<int:pk>/coverage/", views.coverage, name="coverage"),
    path("campaigns/<int:pk>/summary/", views.summary, name="summary"),
    path("campaigns/<int:pk>/export/", views.summary_export, name="summary_export"),
    path("groups/<int:pk>/draw/<str:kind>/", views.draw_new, name="draw_new"),
    path("groups/<int:pk>/cards/", views.cards, name="cards"),
    path("draws/<int:pk>/", views.draw_detail, name="draw_detail"),
    path("draws/<int:pk>/confirm/", views.draw_confirm, name="draw_confirm"),
    path("draws/<int:pk>/verify/", views.draw_verify, name="draw_verify"),
    path("draws/<int:pk>/record.json", views.draw_record, name="draw_record"),
    path("items/<int:pk>/", views.item_detail, name="item_detail"),
    path("items/<int:pk>/confirm/", views.trace_confirm, name="trace_confirm"),
    path("api/checks/", views.api_checks, name="api_checks"),
    path("api/photos/", views.api_photos, name="api_photos"),
    path("photos/<int:pk>/", views.photo_file, name="photo"),
    path("photos/<int:pk>/thumb/", views.photo_file, {"thumb": True}, name="photo_thumb"),
    path("findings/", views.finding_list, name="finding_list"),
    path("findings/new/", views.finding_new, name="finding_new"),
    path("findings/from-anomaly/<int:row>/", views.finding_from_anomaly, name="finding_from_anomaly"),
    path("findings/<int:pk>/", views.finding_detail, name="finding_detail"),
    path("findings/<int:pk>/submit/", views.finding_submit, name="finding_submit"),
    path("findings/<int:pk>/review/", views.finding_review, name="finding_review"),
    path("households/<int:pk>/ledger/", views.ledger, name="ledger"),
]
