"""Uploads kept across a failed submit: a photo chosen before a validation error is not lost.

A view that takes files reads them through ``files(request)`` and, when it shows the form again after
a POST, calls ``keep(request, form)``. Each file the form accepted is then held on the server (under
``PRIVATE_ROOT/held/``, bound to the user who sent it, for ``HELD_UPLOAD_TTL_MINUTES``), the form
shows "已上传：<name>" beside its field and carries a token in a hidden ``held-<field>`` input; the
next submit gets the held file back as if chosen again, unless a new file is chosen for that field.
Another user's token, an expired one or a forged one is ignored. ``release(request)`` deletes the
held files once the form was saved; expired ones are removed whenever a file is held.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

PREFIX = "held-"
TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _dir() -> Path:
    d = Path(settings.PRIVATE_ROOT) / "held"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _ttl() -> timedelta:
    return timedelta(minutes=getattr(settings, "HELD_UPLOAD_TTL_MINUTES", 120))


def purge(now=None) -> int:
    """Delete held files past their time. Returns how many."""
    now = now or timezone.now()
    n = 0
    for meta in _dir().glob("*.json"):
        try:
            expires = timezone.datetime.fromisoformat(json.loads(meta.read_text())["expires"])
        except (OSError, ValueError, KeyError):
            expires = now
        if expires <= now:
            meta.with_suffix("").unlink(missing_ok=True)
            meta.unlink(missing_ok=True)
            n += 1
    return n


def _store(user, upload) -> str:
    purge()
    token = uuid.uuid4().hex
    path = _dir() / token
    upload.seek(0)
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    upload.seek(0)
    meta = {
        "user": user.pk,
        "name": str(upload.name)[:200],
        "content_type": getattr(upload, "content_type", "") or "",
        "expires": (timezone.now() + _ttl()).isoformat(),
    }
    path.with_suffix(".json").write_text(json.dumps(meta))
    return token


def _open(user, token: str) -> UploadedFile | None:
    if not TOKEN.match(token or ""):
        return None
    path = _dir() / token
    try:
        meta = json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return None
    if meta.get("user") != user.pk or timezone.datetime.fromisoformat(meta["expires"]) <= timezone.now():
        return None
    if not path.exists():
        return None
    f = UploadedFile(
        file=open(path, "rb"),  # noqa: SIM115 - closed with the request's files
        name=meta["name"],
        content_type=meta["content_type"],
        size=path.stat().st_size,
    )
    f.held_token = token
    return f


def files(request):
    """``request.FILES`` plus the files this user's failed submit left, for fields where no new file was
    chosen (None on GET, as forms expect)."""
    if request.method != "POST":
        return None
    out = request.FILES.copy()
    used = []
    for key in request.POST:
        if not key.startswith(PREFIX):
            continue
        field = key[len(PREFIX) :]
        if request.FILES.getlist(field):
            continue  # a new choice replaces what was held
        for token in request.POST.getlist(key):
            f = _open(request.user, token)
            if f is not None:
                out.appendlist(field, f)
                used.append(token)
    request._held_tokens = used
    return out


def keep(request, form) -> None:
    """Hold the files ``form`` accepted, so that the re-rendered form offers them again (``form.held``:
    ``{field name: [(token, file name)]}``, shown by ``includes/form.html``)."""
    form.held = {}
    if request.method != "POST" or not form.is_bound:
        return
    errors = form.errors  # runs validation if it has not run
    for name, field in form.fields.items():
        if not isinstance(field, forms.FileField) or name in errors:
            continue  # a refused file is not kept: the user chooses another
        for f in form.files.getlist(form.add_prefix(name)):
            token = getattr(f, "held_token", None) or _store(request.user, f)
            form.held.setdefault(name, []).append((token, f.name))


def release(request) -> None:
    """Delete the held files this request used (the form was saved)."""
    for token in getattr(request, "_held_tokens", []):
        (_dir() / token).unlink(missing_ok=True)
        (_dir() / f"{token}.json").unlink(missing_ok=True)
