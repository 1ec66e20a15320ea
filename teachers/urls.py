from django.urls import path

from . import views

app_name = "teachers"
urlpatterns = [
    path("", views.teacher_list, name="teacher_list"),
    path("new/", views.teacher_create, name="teacher_create"),
    path("export/", views.teacher_export, name="teacher_export"),
    path("<int:pk>/", views.teacher_detail, name="teacher_detail"),
    path("<int:pk>/edit/", views.teacher_edit, name="teacher_edit"),
    path("<int:pk>/periods/", views.period_add, name="period_add"),
    path("<int:pk>/periods/<int:period_pk>/close/", views.period_close, name="period_close"),
    path("movements/", views.movement_list, name="movement_list"),
    path("movements/new/", views.movement_create, name="movement_create"),
    path("movements/export/", views.movement_export, name="movement_export"),
    path("movements/<int:pk>/", views.movement_detail, name="movement_detail"),
    path("movements/<int:pk>/<slug:action>/", views.movement_transition, name="movement_transition"),
    path("vacancies/", views.vacancies, name="vacancies"),
    path("vacancies/<int:school_pk>/establishment/", views.establishment_edit, name="establishment_edit"),
    path("targets/", views.targets, name="targets"),
    path("training/courses/", views.course_list, name="course_list"),
    path("training/courses/new/", views.course_create, name="course_create"),
    path("training/courses/<int:pk>/", views.course_detail, name="course_detail"),
    path("training/attendance/new/", views.attendance_create, name="attendance_create"),
    path("training/compliance/", views.compliance, name="compliance"),
    path("training/compliance/export/", views.compliance_export, name="compliance_export"),
    path("training/import/", views.import_hours, name="import_hours"),
    path("training/import/template/", views.import_template, name="import_template"),
    path("honours/", views.honours, name="honours"),
    path("honours/issue/", views.honour_issue, name="honour_issue"),
    path("honours/export/", views.honour_export, name="honour_export"),
]
