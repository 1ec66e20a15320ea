"""Photo intake: a real image (Pillow), within a size limit, re-encoded without EXIF, with a thumbnail.

The capture time and GPS position are read before the EXIF block is dropped (when the phone did not
send them), so they are kept as evidence on the ``Photo`` row but never leave the server in the image.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 12 * 1024 * 1024
MAX_PIXELS = 40_000_000
STORED_EDGE = 2048  # the served image's longest edge
THUMB_EDGE = 320
FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}


def max_bytes() -> int:
    return getattr(settings, "INSPECTIONS_PHOTO_MAX_BYTES", MAX_BYTES)


@dataclass
class Processed:
    image: ContentFile
    thumbnail: ContentFile
    width: int
    height: int
    captured_at: dt.datetime | None
    latitude: Decimal | None
    longitude: Decimal | None


def _ratio(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError, ZeroDivisionError):
        return float(v[0]) / float(v[1])


def _gps(exif) -> tuple[Decimal | None, Decimal | None]:
    try:
        gps = exif.get_ifd(0x8825)
    except Exception:  # noqa: BLE001 - a broken GPS block is simply no position
        return None, None
    if not gps or 2 not in gps or 4 not in gps:
        return None, None

    def deg(values, ref, negative):
        d, m, s = (_ratio(x) for x in values)
        value = d + m / 60 + s / 3600
        return Decimal(f"{-value if ref == negative else value:.6f}")

    try:
        return deg(gps[2], gps.get(1), "S"), deg(gps[4], gps.get(3), "W")
    except Exception:  # noqa: BLE001
        return None, None


def _taken_at(exif) -> dt.datetime | None:
    try:
        raw = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
        naive = dt.datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except Exception:  # noqa: BLE001 - no or unreadable date: none
        return None
    return timezone.make_aware(naive)  # phones write local time without a zone: take Asia/Shanghai


def process(upload) -> Processed:
    """Validate and re-encode an uploaded photo; ``ValidationError`` in Chinese when it is not one."""
    size = getattr(upload, "size", None)
    if size is None or size > max_bytes():
        raise ValidationError(_("A photo may be at most %(mb)s MB.") % {"mb": max_bytes() // (1024 * 1024)})
    if size == 0:
        raise ValidationError(_("The file is empty."))
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError(_("The image is too large (more than 40 megapixels)."))
            probe.verify()
        img = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValidationError(_("This file is not a photo (JPEG, PNG or WebP).")) from exc
    if fmt not in FORMATS:
        raise ValidationError(_("This file is not a photo (JPEG, PNG or WebP)."))
    exif = img.getexif()
    taken = _taken_at(exif)
    lat, lon = _gps(exif)
    img = ImageOps.exif_transpose(img).convert("RGB")
    img.thumbnail((STORED_EDGE, STORED_EDGE))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: the EXIF block is gone
    thumb = img.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE))
    tout = io.BytesIO()
    thumb.save(tout, "JPEG", quality=80)
    return Processed(
        image=ContentFile(out.getvalue(), name="photo.jpg"),
        thumbnail=ContentFile(tout.getvalue(), name="thumb.jpg"),
        width=img.width,
        height=img.height,
        captured_at=taken,
        latitude=lat,
        longitude=lon,
    )
