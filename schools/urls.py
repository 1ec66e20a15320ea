from django.urls import path

from . import views

app_name = "schools"
urlpatterns = [
    path("", views.school_list, name="school_list"),
    path("new/", views.school_create, name="school_create"),
    path("export/", views.school_export, name="school_export"),
    path("<int:pk>/", views.school_detail, name="school_detail"),
    path("<int:pk>/edit/", views.school_edit, name="school_edit"),
    path("villages/", views.village_list, name="village_list"),
    path("import/<slug:kind>/", views.import_upload, name="import"),
    path("import/<slug:kind>/template/", views.import_template, name="import_template"),
]
