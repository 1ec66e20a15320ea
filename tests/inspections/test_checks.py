"""Household checks and photos as the phone sends them: the same submission twice is recorded once."""

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from inspections.models import ChecklistItem, CheckResult, HouseholdCheck, Photo

from .conftest import jpeg_bytes
from .helpers import confirmed_draw


def post_check(client, item, cid, **extra):
    items = list(ChecklistItem.objects.values_list("pk", flat=True))
    body = {
        "client_uuid": str(cid),
        "item": item.pk,
        "outcome": "visited",
        "results": [
            {"item": k, "passed": k != items[1], "note": "住房面积不符" if k == items[1] else ""} for k in items
        ],
        "checked_at": "2016-10-25T10:30:00+08:00",
        **extra,
    }
    return client.post("/inspections/api/checks/", json.dumps(body), content_type="application/json")


@pytest.mark.django_db
def test_a_submission_sent_twice_is_recorded_once(sv, client_for):
    d = confirmed_draw(sv)
    item = d.items.first()
    c = client_for(sv.inspector)
    cid = uuid.uuid4()
    r1 = post_check(c, item, cid)
    r2 = post_check(c, item, cid)
    assert r1.status_code == 201 and r2.status_code == 200
    assert r1.json()["check"] == r2.json()["check"]
    assert HouseholdCheck.objects.count() == 1
    assert CheckResult.objects.filter(passed=False).count() == 1
    # a different submission for the same household is refused, not recorded
    r3 = post_check(c, item, uuid.uuid4())
    assert r3.status_code == 409 and HouseholdCheck.objects.count() == 1


@pytest.mark.django_db
def test_not_found_needs_a_reason(sv, client_for):
    d = confirmed_draw(sv)
    c = client_for(sv.inspector)
    r = post_check(c, d.items.first(), uuid.uuid4(), outcome="not_found", results=[])
    assert r.status_code == 409 and not HouseholdCheck.objects.exists()
    r = post_check(c, d.items.first(), uuid.uuid4(), outcome="not_found", not_found_reason="全家外出务工", results=[])
    assert r.status_code == 201


@pytest.mark.django_db
def test_photo_twice_once_exif_stripped_evidence_kept(sv, client_for):
    d = confirmed_draw(sv)
    item = d.items.first()
    c = client_for(sv.inspector)
    pid = uuid.uuid4()
    for expected in (201, 200):
        r = c.post(
            "/inspections/api/photos/",
            {
                "client_uuid": str(pid),
                "campaign": sv.campaign.pk,
                "item": item.pk,
                "image": SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg"),
            },
        )
        assert r.status_code == expected, r.content
    photo = Photo.objects.get()
    assert photo.village_id == item.village_id and photo.county_id == sv.county_a.pk
    assert photo.captured_at is not None and photo.captured_at.year == 2016
    assert float(photo.latitude) == pytest.approx(35.725, abs=1e-3)
    served = c.get(f"/inspections/photos/{photo.pk}/")
    assert served.status_code == 200
    import io

    img = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert not img.getexif() and "exif" not in img.info
    assert c.get(f"/inspections/photos/{photo.pk}/thumb/").status_code == 200
    # another county's officer never sees it
    assert client_for(sv.officer_b).get(f"/inspections/photos/{photo.pk}/").status_code == 404


@pytest.mark.django_db
def test_a_file_that_is_not_a_photo_is_refused(sv, client_for):
    d = confirmed_draw(sv)
    c = client_for(sv.inspector)
    r = c.post(
        "/inspections/api/photos/",
        {
            "client_uuid": str(uuid.uuid4()),
            "campaign": sv.campaign.pk,
            "item": d.items.first().pk,
            "image": SimpleUploadedFile("p.jpg", b"\xff\xd8\xff not really a jpeg", content_type="image/jpeg"),
        },
    )
    assert r.status_code == 400 and not Photo.objects.exists()


@pytest.mark.django_db
def test_village_photo_only_for_a_village_of_the_sample(sv, client_for):
    d = confirmed_draw(sv)
    c = client_for(sv.inspector)

    def send(village):
        return c.post(
            "/inspections/api/photos/",
            {
                "client_uuid": str(uuid.uuid4()),
                "campaign": sv.campaign.pk,
                "village": village.pk,
                "image": SimpleUploadedFile("v.png", jpeg_bytes(exif_gps=False), content_type="image/jpeg"),
            },
        )

    assert send(d.items.first().village).status_code == 201
    assert send(sv.village_b).status_code == 400


@pytest.mark.django_db
def test_photos_over_the_size_limits_are_refused(sv, client_for, settings):
    """Real images, but too many pixels (over 40 megapixels) or too many bytes (the limit, lowered here):
    refused with the reason, nothing stored."""
    import io

    d = confirmed_draw(sv)
    c = client_for(sv.inspector)

    def send(data, name):
        return c.post(
            "/inspections/api/photos/",
            {
                "client_uuid": str(uuid.uuid4()),
                "campaign": sv.campaign.pk,
                "item": d.items.first().pk,
                "image": SimpleUploadedFile(name, data, content_type="image/png"),
            },
        )

    huge = io.BytesIO()
    Image.new("1", (8000, 5001)).save(huge, "PNG")  # 40.008 megapixels in a few kilobytes
    r = send(huge.getvalue(), "huge.png")
    assert r.status_code == 400 and "40" in r.content.decode() and not Photo.objects.exists()
    photo = jpeg_bytes()
    settings.INSPECTIONS_PHOTO_MAX_BYTES = len(photo) - 1
    r = send(photo, "big.jpg")
    assert r.status_code == 400 and not Photo.objects.exists()
    settings.INSPECTIONS_PHOTO_MAX_BYTES = len(photo)
    assert send(photo, "ok.jpg").status_code == 201 and Photo.objects.count() == 1
