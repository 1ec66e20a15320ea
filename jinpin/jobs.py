"""Jobs: long work run by Celery, tracked by a ``Job`` row.

An app registers a kind of job with a handler::

    jobs.register("subsidies.batch", handler, permission=lambda scope, params: ...)

``start(kind=..., params=..., title=..., request=...)`` checks the permission,
creates the row and queues ``jinpin.tasks.run_job`` *after the transaction
commits*. The task takes only the job id, claims the row atomically, rebuilds
the starter's scope from their user id (so a deactivated user's job fails),
re-checks the permission, and calls::

    handler(job, scope, progress) -> JobResult

``progress(done, total=None)`` writes progress to the row at most a few times
a second. A job whose worker is killed is re-delivered (late ack) and simply
runs again: handlers must be idempotent (exports rewrite their file).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .models import Job
from .scope import Scope, scope_for_user_id

log = logging.getLogger(__name__)


@dataclass
class JobResult:
    file_path: Path | None = None
    filename: str = ""
    rows: int | None = None
    summary: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    handler: Callable
    permission: Callable


_kinds: dict[str, Kind] = {}


def register(name: str, handler: Callable, *, permission: Callable = lambda scope, params: scope.role is not None):
    _kinds[name] = Kind(name=name, handler=handler, permission=permission)


def get_kind(name: str) -> Kind:
    return _kinds[name]


class JobFailed(Exception):
    """Raised by a handler with a message meant for the user."""


def start(*, kind: str, params: dict, title: str, request=None, user=None) -> Job:
    """Create a job for ``user`` (or ``request.user``) and queue it after commit."""
    user = user or request.user
    scope = request.scope if request is not None else scope_for_user_id(user.pk)
    if not _kinds[kind].permission(scope, params):
        raise PermissionDenied
    with transaction.atomic():
        job = Job.objects.create(kind=kind, params=params, title=title[:200], created_by=user)
        audit.log(job, action=audit.Action.CREATE, actor=user, request=request, kind=kind, params=params)
        transaction.on_commit(lambda: dispatch(job.pk))
    return job


def dispatch(job_id) -> None:
    """Queue the job on Celery; without a broker (``JOBS_IN_THREAD``) run it in a thread of this process.

    A thread, not the request itself, so that the page the user is sent to shows the job's true
    progress while it runs, as it does with real workers (tests run jobs inline: eager Celery).
    """
    from .tasks import run_job

    if getattr(settings, "JOBS_IN_THREAD", False):
        threading.Thread(target=_run_in_thread, args=(str(job_id),), name=f"job-{job_id}", daemon=True).start()
    else:
        run_job.delay(str(job_id))


def _run_in_thread(job_id: str) -> None:
    from django.db import connections

    try:
        execute(job_id)
    except Exception:  # already recorded on the job and logged by execute()
        pass
    finally:
        connections.close_all()


def result_dir() -> Path:
    path = Path(settings.PRIVATE_ROOT) / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


class Progress:
    """Throttled progress writer: one UPDATE at most every ``interval`` seconds."""

    def __init__(self, job_id, interval: float = 0.5):
        self.job_id = job_id
        self.interval = interval
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        fields = {"progress_done": done}
        if total is not None:
            fields["progress_total"] = total
        Job.objects.filter(pk=self.job_id).update(**fields)

    def add(self, n: int) -> None:
        """Add ``n`` to the done count atomically (for chunks run by several workers)."""
        Job.objects.filter(pk=self.job_id).update(progress_done=F("progress_done") + n)


def execute(job_id) -> None:
    """Run one job (called by the Celery task). Safe to call again for the same job."""
    claimed = Job.objects.filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1, message=""
    )
    if claimed != 1:
        log.info("job %s already finished or gone; nothing to do", job_id)
        return
    job = Job.objects.select_related("created_by").get(pk=job_id)
    try:
        kind = _kinds[job.kind]
        scope: Scope = scope_for_user_id(job.created_by_id)
        if scope.role is None or not kind.permission(scope, job.params):
            raise JobFailed(_("You no longer have access to this work."))
        result: JobResult = kind.handler(job, scope, Progress(job.pk)) or JobResult()
    except JobFailed as exc:
        _finish(job, Job.Status.FAILED, message=str(exc))
    except Exception as exc:  # the user sees a short reason; the log keeps the trace
        log.error("job %s failed:\n%s", job_id, traceback.format_exc())
        _finish(job, Job.Status.FAILED, message=_("Unexpected error: %(error)s") % {"error": exc.__class__.__name__})
        raise
    else:
        _finish(job, Job.Status.SUCCEEDED, result=result)


def _finish(job: Job, status: str, *, message: str = "", result: JobResult | None = None) -> None:
    now = timezone.now()
    fields = {"status": status, "finished_at": now, "message": message}
    if result is not None:
        fields["message"] = result.summary
        fields["result_rows"] = result.rows
        if result.file_path:
            fields["result_file"] = str(Path(result.file_path).relative_to(settings.PRIVATE_ROOT))
            fields["result_name"] = result.filename
            fields["expires_at"] = now + timedelta(hours=settings.EXPORT_TTL_HOURS)
        if result.rows is not None:
            fields["progress_done"] = result.rows
            fields["progress_total"] = result.rows
    Job.objects.filter(pk=job.pk).update(**fields)


def retry(job: Job, *, request) -> Job:
    """Run a failed job again with the same parameters (a new job row)."""
    return start(kind=job.kind, params=job.params, title=job.title, request=request)


def purge_expired(now=None) -> int:
    """Delete result files past their expiry. Returns how many jobs were purged."""
    now = now or timezone.now()
    n = 0
    for job in Job.objects.filter(expires_at__lt=now).exclude(result_file="").only("pk", "result_file"):
        (Path(settings.PRIVATE_ROOT) / job.result_file).unlink(missing_ok=True)
        Job.objects.filter(pk=job.pk).update(result_file="")
        n += 1
    return n
