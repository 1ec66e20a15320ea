from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from . import autocomplete, dashboard, views
from .accounts import LoginForm

urlpatterns = [
    path("", views.root, name="root"),
    path("home/", views.home, name="home"),
    path("home/work/<slug:key>/", views.work_list, name="work_list"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/workbook/", dashboard.workbook_export, name="workbook_export"),
    path("dashboard/figures/<slug:key>/", dashboard.figure_records, name="figure_records"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<uuid:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<uuid:pk>/status/", views.job_status, name="job_status"),
    path("jobs/<uuid:pk>/download/", views.job_download, name="job_download"),
    path("jobs/<uuid:pk>/retry/", views.job_retry, name="job_retry"),
    path("audit/", views.audit_log, name="audit_log"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
    path("healthz", views.healthz, name="healthz"),
    path("autocomplete/<slug:source>/", autocomplete.search_view, name="autocomplete"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("schools/", include("schools.urls")),
    path("teachers/", include("teachers.urls")),
    path("pairing/", include("pairing.urls")),
    path("subsidies/", include("subsidies.urls")),
    path("inspections/", include("inspections.urls")),
]

handler500 = "jinpin.views.server_error"
