"""Jobs: long work run by Celery, tracked by a ``Job`` row.

An app registers a kind of job with a handler::

    jobs.register("subsidies.batch", handler, permission=lambda scope, params: ...)

``start(kind=..., params=..., title=..., request=...)`` checks the permission,
creates the row and sends ``jinpin.tasks.run_job`` *after the transaction
commits*. The task takes only the job id, claims the row atomically, rebuilds
the starter's scope from their user id (so a deactivated user's job fails),
re-checks the permission, and calls::

    handler(job, scope, progress) -> JobResult

``progress(done, total=None)`` writes progress to the row at most a few times
a second. Handlers must be idempotent (exports rewrite their file, the batch
relies on unique constraints): a job may run again after any failure.

What keeps a job's state true when the infrastructure fails:

* **Outbox.** The row is the outbox: ``sent_at`` stays empty until the broker took
  the task. A send that fails (Redis down) never fails the request; the page says
  the task service is unavailable, and ``redrive`` sends every queued job whose
  task was never sent (beat each minute, every worker when it starts, and the job
  page itself when viewed). A job sent long ago but never started (a broker that
  lost its queue) is sent again; a duplicate delivery finds the job claimed.
* **Heartbeat.** The process running a job refreshes ``heartbeat_at`` from a
  thread and with each progress write. ``reap_stuck`` (beat, every minute) re-queues
  a running job that has been silent for ``JOB_STALE_SECONDS`` (its worker is gone)
  or, after ``JOB_MAX_ATTEMPTS``, marks it failed with the reason.
* **Transient database errors** (a restart, a dropped connection) are retried
  with backoff for ``JOB_DB_RETRY_SECONDS`` before the job gives up; if it cannot
  even write its failure, the heartbeat stops and the reaper notices.
* ``started_at`` is the first start: retries and take-overs keep it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from . import audit
from .models import Job
from .scope import Scope, scope_for_user_id

log = logging.getLogger(__name__)

#: errors that a database restart or a dropped connection produce; worth retrying
TRANSIENT = (OperationalError, InterfaceError)


@dataclass
class JobResult:
    file_path: Path | None = None
    filename: str = ""
    rows: int | None = None
    summary: str = ""
    #: the handler handed the rest of the work to other tasks, one of which finishes the job
    detached: bool = False


@dataclass(frozen=True)
class Kind:
    name: str
    handler: Callable
    permission: Callable
    #: "run again" on a failed job continues the same job (e.g. a batch run resumes its chunks)
    rerun_in_place: bool = False
    #: ``fn(job) -> (url, label) | None``: the page of what the job produced (a batch's run and its
    #: differences); without it a succeeded job with ``params["result_url"]`` links there
    result_link: Callable | None = None


_kinds: dict[str, Kind] = {}


def register(
    name: str,
    handler: Callable,
    *,
    permission: Callable = lambda scope, params: scope.role is not None,
    rerun_in_place: bool = False,
    result_link: Callable | None = None,
):
    _kinds[name] = Kind(
        name=name, handler=handler, permission=permission, rerun_in_place=rerun_in_place, result_link=result_link
    )


def get_kind(name: str) -> Kind:
    return _kinds[name]


def result_link(job: Job) -> tuple[str, str] | None:
    """``(url, label)`` of the page showing what ``job`` produced, or None (nothing to show yet)."""
    kind = _kinds.get(job.kind)
    if kind and kind.result_link:
        return kind.result_link(job)
    url = (job.params or {}).get("result_url")
    if url and job.status == Job.Status.SUCCEEDED and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url, str(_("Open the result"))
    return None


class JobFailed(Exception):
    """Raised by a handler with a message meant for the user."""


def _setting(name: str, default):
    return getattr(settings, name, default)


def worker_id() -> str:
    """This process, as written into ``Job.worker``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _is_dead(worker: str) -> bool:
    """True only when ``worker`` ran on this machine and its process is gone (e.g. a pool child SIGKILLed)."""
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isascii() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# -- starting and sending ---------------------------------------------------------------
def start(*, kind: str, params: dict, title: str, request=None, user=None) -> Job:
    """Create a job for ``user`` (or ``request.user``) and send its task after commit.

    Never fails because the task service is down: the job then stays queued, says so, and is
    sent by ``redrive`` once the service is back.
    """
    user = user or request.user
    scope = request.scope if request is not None else scope_for_user_id(user.pk)
    if not _kinds[kind].permission(scope, params):
        raise PermissionDenied
    with transaction.atomic():
        job = Job.objects.create(kind=kind, params=params, title=title[:200], created_by=user)
        audit.log(job, action=audit.Action.CREATE, actor=user, request=request, kind=kind, params=params)
        transaction.on_commit(lambda: send(job.pk))
    return job


def send(job_id) -> bool:
    """Hand the job's task to the broker; record the outcome on the row. Returns False if the broker is down.

    Without a broker (``JOBS_IN_THREAD``, the zero-configuration `make run`) the job runs in a thread of
    this process instead, so that the page the user is sent to shows the job's true progress while it
    runs, as it does with real workers (tests run jobs inline: eager Celery).
    """
    from .tasks import run_job

    if getattr(settings, "JOBS_IN_THREAD", False):
        Job.objects.filter(pk=job_id).update(sent_at=timezone.now(), send_attempts=F("send_attempts") + 1)
        threading.Thread(target=_run_in_thread, args=(str(job_id),), name=f"job-{job_id}", daemon=True).start()
        return True
    try:
        # one quick retry: a broker that is down must not hold the web request for long
        run_job.apply_async((str(job_id),), retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2})
    except Exception as exc:  # kombu's OperationalError, socket errors, redis errors: all mean "not sent"
        log.warning("job %s: the task could not be sent (%s); it stays queued for re-sending", job_id, exc)
        Job.objects.filter(pk=job_id, sent_at__isnull=True).update(
            send_failed_at=timezone.now(), send_attempts=F("send_attempts") + 1
        )
        return False
    Job.objects.filter(pk=job_id).update(sent_at=timezone.now(), send_attempts=F("send_attempts") + 1)
    return True


def _run_in_thread(job_id: str) -> None:
    from django.db import connections

    try:
        execute(job_id)
    except Exception:  # already recorded on the job and logged by execute()
        pass
    finally:
        connections.close_all()


def redrive(*, now=None, only=None) -> int:
    """Send the queued jobs whose task was never sent, or was sent long ago and never started.

    Called by beat (``reap_stuck_jobs``), by each worker as it starts, and by the job page.
    A job sent twice is harmless: the second delivery finds the job claimed or finished.
    """
    now = now or timezone.now()
    resend = now - timedelta(seconds=_setting("JOB_RESEND_SECONDS", 600))
    # a job committed a moment ago is being sent by its own on_commit right now
    fresh = now - timedelta(seconds=2)
    qs = Job.objects.filter(status=Job.Status.QUEUED).filter(
        Q(sent_at__isnull=True, created_at__lt=fresh) | Q(sent_at__lt=resend)
    )
    if only is not None:
        qs = qs.filter(pk=only)
    n = 0
    for pk in qs.values_list("pk", flat=True)[:1000]:
        # clear sent_at first so that a failed send leaves the job visibly unsent
        Job.objects.filter(pk=pk, status=Job.Status.QUEUED).update(sent_at=None)
        if not send(pk):
            break  # the broker is down: the next round tries again
        n += 1
    return n


def redrive_on_view(job: Job) -> None:
    """The job page re-sends its own job if it was never sent (at most every few seconds)."""
    if job.status != Job.Status.QUEUED or job.sent_at is not None:
        return
    now = timezone.now()
    if job.created_at > now - timedelta(seconds=2):
        return
    if job.send_failed_at and job.send_failed_at > now - timedelta(seconds=5):
        return
    redrive(now=now, only=job.pk)
    job.refresh_from_db()


def is_unsent(job: Job) -> bool:
    """Queued, and the task service could not be reached to send it."""
    return job.status == Job.Status.QUEUED and job.sent_at is None and job.send_failed_at is not None


def is_stuck(job: Job, now=None) -> bool:
    """Running, but nobody has refreshed its heartbeat for a while (its worker is gone)."""
    if job.status != Job.Status.RUNNING:
        return False
    last = job.heartbeat_at or job.started_at
    now = now or timezone.now()
    return last is None or last < now - timedelta(seconds=_setting("JOB_STALE_SECONDS", 90))


def result_dir() -> Path:
    path = Path(settings.PRIVATE_ROOT) / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- running ------------------------------------------------------------------------------
class Progress:
    """Throttled progress writer: one UPDATE at most every ``interval`` seconds; it refreshes the heartbeat."""

    def __init__(self, job_id, interval: float = 0.5):
        self.job_id = job_id
        self.interval = interval
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        fields = {"progress_done": done, "heartbeat_at": timezone.now()}
        if total is not None:
            fields["progress_total"] = total
        Job.objects.filter(pk=self.job_id).update(**fields)

    def add(self, n: int) -> None:
        """Add ``n`` to the done count atomically (for chunks run by several workers)."""
        Job.objects.filter(pk=self.job_id).update(progress_done=F("progress_done") + n, heartbeat_at=timezone.now())


class _Heartbeat(threading.Thread):
    """Refreshes a running job's heartbeat from its own connection, whatever the handler is doing."""

    def __init__(self, job_id, interval: float):
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.job_id = job_id
        self.interval = interval
        self.stopped = threading.Event()

    def run(self):
        try:
            while not self.stopped.wait(self.interval):
                try:
                    Job.objects.filter(pk=self.job_id, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now())
                except Exception as exc:  # the database is away: silence is what the reaper looks for
                    log.warning("job %s: heartbeat failed (%s)", self.job_id, exc.__class__.__name__)
                    connection.close()
        finally:
            connection.close()


@contextmanager
def heartbeat(job_id, *, enabled: bool = True):
    """Keep ``job_id``'s heartbeat fresh while the block runs (also used by a job's helper tasks)."""
    if not enabled:
        yield
        return
    beat = _Heartbeat(job_id, _setting("JOB_HEARTBEAT_SECONDS", 10))
    beat.start()
    try:
        yield
    finally:
        beat.stopped.set()


def with_db_retry(fn, *args, what: str = "", **kwargs):
    """Call ``fn``; on a transient database error reconnect and call it again, with backoff, for up to
    ``JOB_DB_RETRY_SECONDS``. ``fn`` must be idempotent. Inside an outer transaction nothing is retried."""
    deadline = time.monotonic() + _setting("JOB_DB_RETRY_SECONDS", 120)
    delay = 0.5
    while True:
        try:
            return fn(*args, **kwargs)
        except TRANSIENT as exc:
            if connection.in_atomic_block or time.monotonic() + delay > deadline:
                raise
            log.warning("%s: database error (%s), retrying in %.1f s", what or fn.__name__, exc, delay)
            connection.close()
            time.sleep(delay)
            delay = min(delay * 2, 15)


class _Retry(Exception):
    """A transient database error inside the handler: run the whole job again."""


def execute(job_id, *, beat: bool = True) -> None:
    """Run one job (called by the Celery task). Safe to call again for the same job.

    Transient database errors are retried with backoff; if the database stays away, the job
    tries to record its failure, and if it cannot, the reaper will find it silent.
    """
    try:
        with_db_retry(_execute_once, job_id, beat, what=f"job {job_id}")
    except TRANSIENT as exc:
        log.error("job %s: the database stayed unreachable: %s", job_id, exc)
        try:
            connection.close()
            finish(
                job_id,
                Job.Status.FAILED,
                message=_("The database could not be reached (%(error)s). Run the job again.")
                % {"error": exc.__class__.__name__},
            )
        except TRANSIENT:
            log.error("job %s: could not record the failure either; the reaper will", job_id)
        raise


def _claim(job_id) -> bool:
    """Take the job: queued; or running but owned by this process, by a dead process here, or silent."""
    me = worker_id()
    now = timezone.now()
    fields = {
        "status": Job.Status.RUNNING,
        "started_at": Coalesce(F("started_at"), now),  # a retry keeps the first start
        "attempts": F("attempts") + 1,
        "message": "",
        "worker": me,
        "heartbeat_at": now,
    }
    if Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(**fields) == 1:
        return True
    job = Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).only("worker", "heartbeat_at", "started_at").first()
    if job is None:
        return False
    if not (job.worker == me or _is_dead(job.worker) or is_stuck(job, now)):
        log.info("job %s is running in %s; this delivery is a duplicate", job_id, job.worker)
        return False
    # take it over only if nobody else did in between
    return (
        Job.objects.filter(
            pk=job_id, status=Job.Status.RUNNING, worker=job.worker, heartbeat_at=job.heartbeat_at
        ).update(**fields)
        == 1
    )


def _execute_once(job_id, beat: bool) -> None:
    if not _claim(job_id):
        log.info("job %s already finished, running elsewhere or gone; nothing to do", job_id)
        return
    job = Job.objects.select_related("created_by").get(pk=job_id)
    before = _stamps()
    with heartbeat(job.pk, enabled=beat):
        try:
            kind = _kinds[job.kind]
            scope: Scope = scope_for_user_id(job.created_by_id)
            if scope.role is None or not kind.permission(scope, job.params):
                raise JobFailed(_("You no longer have access to this work."))
            result: JobResult = kind.handler(job, scope, Progress(job.pk)) or JobResult()
        except JobFailed as exc:
            finish(job.pk, Job.Status.FAILED, message=str(exc))
        except TRANSIENT:
            raise  # with_db_retry runs the job again
        except Exception as exc:  # the user sees a short reason; the log keeps the trace
            log.error("job %s failed:\n%s", job_id, traceback.format_exc())
            finish(
                job.pk,
                Job.Status.FAILED,
                message=_("Unexpected error: %(error)s") % {"error": exc.__class__.__name__},
            )
            raise
        else:
            if not result.detached:
                finish(job.pk, Job.Status.SUCCEEDED, result=result)
            if before is not None and _stamps() not in (before, None):
                rewarm_dashboards()  # the job changed what the dashboards show (an import, payouts, a batch)


def _stamps() -> dict | None:
    """The cache stamps of the areas the dashboards' figures depend on (a few cache reads); None when the
    cache cannot be read (Redis away: the job runs all the same, and beat re-warms once it is back)."""
    from . import cache, figures

    try:
        return {area: cache.stamp(area) for area in sorted({f.cache_area for f in figures.all_figures()})}
    except Exception as exc:
        log.warning("could not read the cache stamps: %s", exc)
        return None


def rewarm_dashboards() -> None:
    """Send the dashboards' warmer (``jinpin.tasks.warm_dashboards``) now, after a job that changed their data,
    so that nobody opening a dashboard pays for the aggregates the job invalidated. Without a broker the
    beat's run (every minute) does the same."""
    from .tasks import warm_dashboards

    try:
        warm_dashboards.delay()
    except Exception as exc:  # the broker may be down: the work is only postponed to the next beat
        log.warning("could not send the dashboards' warmer: %s", exc)


def finish(job_id, status: str, *, message: str = "", result: JobResult | None = None) -> bool:
    """Record the job's end, unless it already ended (several tasks may race to finish a job)."""
    now = timezone.now()
    fields = {"status": status, "finished_at": now, "message": message, "heartbeat_at": now}
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
    unfinished = [Job.Status.QUEUED, Job.Status.RUNNING]
    return Job.objects.filter(pk=job_id, status__in=unfinished).update(**fields) == 1


# -- recovering -------------------------------------------------------------------------
def reap_stuck(*, now=None) -> dict:
    """Find running jobs whose worker went silent: re-queue them (the work is idempotent) or, after
    ``JOB_MAX_ATTEMPTS``, mark them failed with the reason; then re-send queued jobs (``redrive``)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=_setting("JOB_STALE_SECONDS", 90))
    max_attempts = _setting("JOB_MAX_ATTEMPTS", 3)
    requeued = failed = 0
    silent = Job.objects.filter(status=Job.Status.RUNNING).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale)
    )
    for job in silent.only("pk", "attempts", "heartbeat_at", "started_at", "worker")[:1000]:
        last = job.heartbeat_at or job.started_at
        same = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, heartbeat_at=job.heartbeat_at)
        when = timezone.localtime(last).strftime("%Y-%m-%d %H:%M:%S")
        if job.attempts < max_attempts:
            n = same.update(
                status=Job.Status.QUEUED,
                sent_at=None,
                worker="",
                message=_(
                    "The worker running this job stopped responding (last sign of life at %(time)s); "
                    "the job was queued again."
                )
                % {"time": when},
            )
            if n:
                requeued += 1
                log.warning("job %s: silent since %s, re-queued", job.pk, when)
                send(job.pk)
        else:
            n = same.update(
                status=Job.Status.FAILED,
                finished_at=now,
                message=_(
                    "The worker running this job stopped responding (last sign of life at %(time)s) after "
                    "%(n)s attempts. Run it again."
                )
                % {"time": when, "n": job.attempts},
            )
            if n:
                failed += 1
                log.error("job %s: silent since %s after %s attempts, failed", job.pk, when, job.attempts)
    sent = redrive(now=now)
    return {"requeued": requeued, "failed": failed, "sent": sent}


def can_run_again(job: Job) -> bool:
    return job.status == Job.Status.FAILED or is_stuck(job) or is_unsent(job)


def retry(job: Job, *, request) -> Job:
    """ "Run again": a failed job runs again as a new job with the same parameters; a stuck or unsent one is
    queued again in place (same row, first start time kept). Safe because every handler is idempotent."""
    if job.status == Job.Status.FAILED and not _kinds[job.kind].rerun_in_place:
        return start(kind=job.kind, params=job.params, title=job.title, request=request)
    if not _kinds[job.kind].permission(request.scope, job.params):
        raise PermissionDenied
    if job.status == Job.Status.FAILED:
        Job.objects.filter(pk=job.pk, status=Job.Status.FAILED).update(
            status=Job.Status.QUEUED, finished_at=None, sent_at=None, worker="", message=""
        )
    elif is_stuck(job):
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, heartbeat_at=job.heartbeat_at).update(
            status=Job.Status.QUEUED, sent_at=None, worker="", message=""
        )
    audit.log(job, action=audit.Action.UPDATE, request=request, event="job_run_again")
    send(job.pk)
    return job


def purge_expired(now=None) -> int:
    """Delete result files past their expiry. Returns how many jobs were purged."""
    now = now or timezone.now()
    n = 0
    for job in Job.objects.filter(expires_at__lt=now).exclude(result_file="").only("pk", "result_file"):
        (Path(settings.PRIVATE_ROOT) / job.result_file).unlink(missing_ok=True)
        Job.objects.filter(pk=job.pk).update(result_file="")
        n += 1
    # uploads waiting for an import job are removed by the job; any left behind (a job that failed on an
    # error, or never ran) go after the same time as export files
    cutoff = (now - timedelta(hours=settings.EXPORT_TTL_HOURS)).timestamp()
    uploads = Path(settings.PRIVATE_ROOT) / "uploads"
    if uploads.is_dir():
        for path in uploads.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
    return n
