"""Uploads: type by first bytes, size limit, private storage, scoped serving."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pairing.models import Activity, Attachment

from .factories import JPEG, png
from .factories import PNG as PNG_BYTES

pytestmark = pytest.mark.django_db

BASE = {
    "kind": "seminar",
    "held_on": "2016-10-12",
    "place": "会议室",
    "online_link": "",
    "pupils": 0,
    "summary": "研讨",
}


def post(client, pair, files):
    return client.post(reverse("pairing:activity_create", args=[pair.pk]), {**BASE, "files": files})


def test_wrong_type_is_refused_even_with_an_image_name(world, pair, client_for):
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00 not an image", content_type="image/png")
    r = post(client_for(world.principal_a), pair, [fake])
    assert r.status_code == 200
    assert "not an accepted type" in " ".join(r.context["form"].errors["files"])
    assert not Activity.objects.exists()


def test_too_large_is_refused(world, pair, client_for, settings):
    settings.PAIRING_UPLOAD_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.jpg", JPEG + b"\x00" * 2048, content_type="image/jpeg")
    r = post(client_for(world.principal_a), pair, [big])
    assert r.status_code == 200
    assert "too large" in " ".join(r.context["form"].errors["files"])


def test_photo_is_stored_privately_and_served_only_in_scope(world, pair, client_for, settings):
    r = post(
        client_for(world.principal_a), pair, [png("课堂.png"), SimpleUploadedFile("会议纪要.pdf", b"%PDF-1.7\n...")]
    )
    assert r.status_code == 302
    photo, doc = Attachment.objects.order_by("pk")
    assert photo.content_type == "image/png" and doc.content_type == "application/pdf"
    path = photo.file.path
    assert path.startswith(str(settings.PRIVATE_ROOT)) and path.endswith(".png") and "课堂" not in path
    url = reverse("pairing:attachment_file", args=[photo.pk])
    ok = client_for(world.principal_strong_a).get(url)
    assert ok.status_code == 200 and ok["Content-Type"] == "image/png"
    assert client_for(world.principal_b).get(url).status_code == 404
    assert client_for(world.officer_b).get(url).status_code == 404


def test_agreement_document_type_checked(world, client_for):
    c = client_for(world.officer_a)
    data = {
        "helping_school": world.strong_a.pk,
        "helped_schools": [world.weak_a.pk],
        "form": "one_to_one",
        "signed_on": "2016-09-01",
        "document": SimpleUploadedFile("协议.pdf", b"<html>not a pdf</html>"),
    }
    r = c.post(reverse("pairing:agreement_create"), data)
    assert r.status_code == 200 and "document" in r.context["form"].errors


def test_download_name_follows_the_checked_type_not_the_uploaders_name(world, pair, client_for):
    """A PDF uploaded as ``x.html`` is offered as ``x.pdf``: a saved download never opens as a web page."""
    r = post(
        client_for(world.principal_a),
        pair,
        [
            SimpleUploadedFile("纪要.html", b"%PDF-1.7\n<script>alert(1)</script>"),
            SimpleUploadedFile("课堂.svg", PNG_BYTES),
        ],
    )
    assert r.status_code == 302
    doc, photo = Attachment.objects.order_by("pk")
    c = client_for(world.principal_strong_a)
    got = c.get(reverse("pairing:attachment_file", args=[doc.pk]))
    assert got["Content-Type"] == "application/pdf" and got["X-Content-Type-Options"] == "nosniff"
    assert got["Content-Disposition"].startswith("attachment;")
    assert ".pdf" in got["Content-Disposition"] and ".html" not in got["Content-Disposition"]
    got = c.get(reverse("pairing:attachment_file", args=[photo.pk]))
    assert (
        got["Content-Type"] == "image/png"
        and ".png" in got["Content-Disposition"]
        and ".svg" not in got["Content-Disposition"]
    )
