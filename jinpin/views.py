from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import audit, jobs, paging, registry
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
    recent_jobs = Job.objects.filter(created_by=request.user)[:5]
    return render(
        request,
        "jinpin/home.html",
        {"panels": registry.panels_for(request), "recent_jobs": recent_jobs},
    )


def _own_job(request, pk) -> Job:
    # A job and its file belong to the person who started it; anyone else gets 404.
    return get_object_or_404(Job, pk=pk, created_by=request.user)


@login_required
def job_detail(request, pk):
    job = _own_job(request, pk)
    return render(request, "jinpin/job_detail.html", {"job": job})


@login_required
def job_status(request, pk):
    job = _own_job(request, pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_display": job.get_status_display(),
            "done": job.progress_done,
            "total": job.progress_total,
            "percent": job.percent,
            "message": job.message,
            "finished": job.is_finished,
            "download_url": reverse("job_download", args=[job.pk]) if job.result_file else None,
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
    return FileResponse(open(path, "rb"), as_attachment=True, filename=job.result_name)


@login_required
@require_POST
def job_retry(request, pk):
    job = _own_job(request, pk)
    if job.status != Job.Status.FAILED:
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
    actor = request.GET.get("actor", "").strip()
    if actor:
        qs = qs.filter(actor__username__icontains=actor)
    model = request.GET.get("model", "").strip()
    if model:
        qs = qs.filter(content_type__model=model.lower())
    action = request.GET.get("action", "")
    if action.isdigit():
        qs = qs.filter(action=int(action))
    # append-only, so newest first is highest key first: reached by key, never by OFFSET
    filtered = bool(actor or model or action.isdigit())
    count = paging.capped_count(qs) if filtered else paging.estimated_count(audit.LogEntry)
    page = paging.keyset_page(qs, request.GET, per_page=50, descending=True, count=count)
    return render(request, "jinpin/audit_log.html", {"page": page, "actions": audit.LogEntry.Action.choices})


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
