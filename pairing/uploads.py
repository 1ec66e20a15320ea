"""Uploaded documents and photos of 结对帮扶: kept under ``PRIVATE_ROOT`` (never a public URL),
checked by size and by their first bytes, and served only by scoped views."""

from __future__ import annotations

import os
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from jinpin import audit, storage
from jinpin.display import content_disposition

MAX_BYTES = 10 * 1024 * 1024

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
DOCUMENT_TYPES = (PDF, JPEG, PNG)
IMAGE_TYPES = (JPEG, PNG)


@deconstructible
class PrivateStorage(storage.PrivateStorage):
    """Under ``settings.PRIVATE_ROOT / "pairing"``; files are streamed by views."""

    folder = "pairing"


private_storage = PrivateStorage()


def max_bytes() -> int:
    return getattr(settings, "PAIRING_UPLOAD_MAX_BYTES", MAX_BYTES)


def sniff(head: bytes) -> str | None:
    """The content type told by a file's first bytes (PDF, JPEG or PNG), or None."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def check(upload, *, allowed=DOCUMENT_TYPES) -> str:
    """Validate an uploaded file; return its content type. Raises ValidationError with a clear message."""
    limit = max_bytes()
    if upload.size > limit:
        raise ValidationError(
            _("The file is too large (%(size)s MB); the limit is %(limit)s MB."),
            params={"size": f"{upload.size / 1048576:.1f}", "limit": f"{limit / 1048576:.0f}"},
            code="too_large",
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = sniff(head)
    if kind not in allowed:
        names = ", ".join({PDF: "PDF", JPEG: "JPEG", PNG: "PNG"}[t] for t in allowed)
        raise ValidationError(
            _("This file is not an accepted type (%(types)s)."), params={"types": names}, code="bad_type"
        )
    return kind


def upload_to(prefix):
    """A random stored name under ``prefix/`` with the extension of the checked type; the user's
    own file name is kept on the row only for display."""

    def path(instance, filename):
        kind = getattr(instance, "content_type", "") or getattr(instance, "document_type", "") or ""
        ext = EXTENSIONS.get(kind, ".bin")
        return f"{prefix}/{uuid.uuid4().hex}{ext}"

    path.__qualname__ = path.__name__ = f"upload_to_{prefix}"
    return path


def upload_agreement(instance, filename):
    return upload_to("agreements")(instance, filename)


def upload_activity(instance, filename):
    return upload_to("activities")(instance, filename)


def upload_milestone(instance, filename):
    return upload_to("milestones")(instance, filename)


def download_name(filename: str, content_type: str) -> str:
    """The name a download is offered under: the uploader's name with the extension of the type the
    file's bytes were checked to be (a PDF uploaded as ``x.html`` is offered as ``x.pdf``)."""
    ext = EXTENSIONS.get(content_type, ".bin")
    stem = os.path.splitext(os.path.basename(filename or ""))[0].strip() or "file"
    return stem + ext


def serve(request, field_file, *, content_type: str, filename: str, obj, inline: bool = False):
    """Stream a private file after the caller has checked scope; leaves an audit record.

    The type and the offered name come from the checked bytes, never from the uploader's
    name or claimed type."""
    if not field_file:
        from django.http import Http404

        raise Http404
    try:
        fh = field_file.storage.open(field_file.name, "rb")
    except FileNotFoundError:
        from django.http import Http404

        raise Http404 from None
    if content_type not in EXTENSIONS:
        content_type = "application/octet-stream"
        inline = False
    filename = download_name(filename, content_type)
    audit.log(obj, request=request, event="download", file=filename)
    response = FileResponse(fh, as_attachment=not inline, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename, attachment=not inline)
    response["X-Content-Type-Options"] = "nosniff"
    return response
