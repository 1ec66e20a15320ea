from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import audit, auditview, jobs, paging, registry
from .display import content_disposition
from .forms import clean_text, parse_choice, parse_int
from .models import Job
from .scope import Role, role_required


def root(request):
    """Anonymous visitors go to the login page; signed-in users to their home."""
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("home")


@login_required
def home(request):
    """The role's home page: what needs the user's attention first."""
    from . import dashboard, work

    scope = request.scope
    recent_jobs = Job.objects.filter(created_by=request.user)[:5]
    context = {"panels": registry.panels_for(request), "recent_jobs": recent_jobs, "waiting": work.waiting(scope)}
    if scope.is_city_admin:
        context.update(dashboard.city_home(request))
    return render(request, "jinpin/home.html", context)


@login_required
def work_list(request, key):
    """The exact list a home-page item counts (the same query, so the count is the number of rows)."""
    from . import work

    item = work.get(key)
    scope = request.scope
    if item is None or scope.role not in item.roles:
        raise Http404
    from .forms import parse_id

    rows = work.rows_in(item, scope, parse_id(request.GET.get("county")))
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "jinpin/work_list.html",
        {
            "item": item,
            "page": page,
            "columns": [label for label, _fn in item.columns],
            "rows": [
                {"cells": [fn(obj) for _l, fn in item.columns], "url": item.url(obj) if item.url else None}
                for obj in page.object_list
            ],
            "full_page": item.page(scope) if item.page else None,
        },
    )


def _own_job(request, pk) -> Job:
    # A job and its file belong to the person who started it; anyone else gets 404.
    return get_object_or_404(Job, pk=pk, created_by=request.user)


def _job_notice(job) -> str:
    """What the page says about a job the infrastructure is holding up."""
    if jobs.is_unsent(job):
        return _(
            "Queued: the task service is unavailable at the moment. The job will start by itself as soon as it is "
            "back; nothing is lost."
        )
    if jobs.is_stuck(job):
        return _(
            "The worker running this job has stopped responding. It will be queued again shortly, or run it again now."
        )
    return ""


@login_required
def job_detail(request, pk):
    job = _own_job(request, pk)
    jobs.redrive_on_view(job)
    errors = None
    if job.status == Job.Status.FAILED:
        errors = Paginator(job.row_errors.order_by("id"), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "jinpin/job_detail.html",
        {
            "job": job,
            "notice": _job_notice(job),
            "can_run_again": jobs.can_run_again(job),
            "errors": errors,
            "result_link": jobs.result_link(job),
        },
    )


@login_required
def job_status(request, pk):
    job = _own_job(request, pk)
    jobs.redrive_on_view(job)
    return JsonResponse(
        {
            "status": job.status,
            "status_display": job.get_status_display(),
            "done": job.progress_done,
            "total": job.progress_total,
            "percent": job.percent,
            "message": job.message,
            "finished": job.is_finished,
            "notice": _job_notice(job),
            "can_run_again": jobs.can_run_again(job),
            "download_url": reverse("job_download", args=[job.pk]) if job.result_file else None,
            "result_url": link[0] if (link := jobs.result_link(job)) else None,
            "result_label": link[1] if link else None,
        }
    )


@login_required
def job_download(request, pk):
    job = _own_job(request, pk)
    if job.status != Job.Status.SUCCEEDED or not job.result_file:
        raise Http404
    if job.expires_at and job.expires_at < timezone.now():
        return render(request, "jinpin/job_expired.html", {"job": job}, status=410)
    path = (Path(settings.PRIVATE_ROOT) / job.result_file).resolve()
    if Path(settings.PRIVATE_ROOT).resolve() not in path.parents or not path.exists():
        raise Http404
    audit.log(job, request=request, event="download", file=job.result_name, rows=job.result_rows)
    response = FileResponse(open(path, "rb"), as_attachment=True)
    response["Content-Disposition"] = content_disposition(job.result_name or path.name)
    return response


@login_required
@require_POST
def job_retry(request, pk):
    job = _own_job(request, pk)
    if not jobs.can_run_again(job):
        raise Http404
    new = jobs.retry(job, request=request)
    return redirect("job_detail", pk=new.pk)


@login_required
def job_list(request):
    page = Paginator(Job.objects.filter(created_by=request.user).order_by("-created_at"), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "jinpin/job_list.html", {"page": page})


@role_required(Role.CITY_ADMIN, Role.AUDITOR)
def audit_log(request):
    qs = audit.LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp")
    actor = clean_text(request.GET.get("actor"), max_length=150)
    if actor:
        qs = qs.filter(Q(actor__username__icontains=actor) | Q(actor__first_name__icontains=actor))
    model = clean_text(request.GET.get("model"), max_length=100)
    if model:
        app_label, _dot, name = model.lower().rpartition(".")
        qs = qs.filter(content_type__model=name, **({"content_type__app_label": app_label} if app_label else {}))
    action = parse_choice(parse_int(request.GET.get("action")), audit.LogEntry.Action.choices)
    if action is not None:
        qs = qs.filter(action=action)
    # append-only, so newest first is highest key first: reached by key, never by OFFSET
    filtered = bool(actor or model or action is not None)
    count = paging.capped_count(qs) if filtered else paging.estimated_count(audit.LogEntry)
    page = paging.keyset_page(qs, request.GET, per_page=50, descending=True, count=count)
    # IDs and accounts masked per jinpin.privacy; names, labels and values as people read them
    shown = auditview.show_page(request, page)
    return render(
        request,
        "jinpin/audit_log.html",
        {
            "page": page,
            "shown": shown,
            "actions": [(k, str(v)) for k, v in auditview.ACTIONS.items()],
            "models": auditview.model_choices(),
            "model": model or "",
        },
    )


@role_required(Role.CITY_ADMIN, Role.AUDITOR)
def audit_verify(request):
    """The audit trail's verifications: the last results, and buttons to verify now or export the chain."""
    from django.utils.translation import gettext as _

    from .models import AuditVerification

    if request.method == "POST":
        if request.POST.get("what") == "export":
            job = jobs.start(
                kind="audit.export_chain", params={}, title=_("Audit log with its hash chain"), request=request
            )
        else:
            job = jobs.start(kind="audit.verify", params={}, title=_("Audit trail verification"), request=request)
        return redirect("job_detail", pk=job.pk)
    runs = list(AuditVerification.objects.select_related("run_by")[:20])
    return render(request, "jinpin/audit_verify.html", {"runs": runs, "last": runs[0] if runs else None})


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def server_error(request):
    """The 500 page: the site's layout and navigation when the request can still be rendered with its
    context, else the same page without it (the error may be the database itself), else plain text."""
    from django.http import HttpResponseServerError
    from django.template import loader

    try:
        return render(request, "500.html", status=500)
    except Exception:  # noqa: BLE001 - whatever broke the request may break its context too
        pass
    try:
        return HttpResponseServerError(loader.get_template("500.html").render({}))
    except Exception:  # noqa: BLE001
        return HttpResponseServerError("500 服务器错误 Server error", content_type="text/plain; charset=utf-8")
