"""A photo chosen before a validation error is kept: the re-rendered form says 已上传：<name> and the
next submit saves it without choosing it again. The held file is the sender's alone and expires."""

import re

import pytest
from django.urls import reverse

from pairing.models import Activity, Attachment

from .factories import PNG, png

pytestmark = pytest.mark.django_db

BASE = {"kind": "seminar", "held_on": "2016-10-12", "online_link": "", "pupils": 0, "summary": "研讨"}


def _token(page: str) -> str:
    m = re.search(r'name="held-files" value="([0-9a-f]{32})"', page)
    assert m, page[:3000]
    return m.group(1)


def test_photo_survives_a_failed_submit(world, pair, client_for, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the note is read in Chinese
    c = client_for(world.principal_a)
    url = reverse("pairing:activity_create", args=[pair.pk])
    r = c.post(url, {**BASE, "place": "", "files": [png("课堂.png")]})  # no place: a validation error
    assert r.status_code == 200 and "place" in r.context["form"].errors
    page = r.content.decode()
    assert "已上传：课堂.png" in page
    token = _token(page)
    # another user cannot use the token: the form saves without the file
    other = client_for(world.principal_strong_a)
    assert other.post(url, {**BASE, "place": "会议室", "held-files": token}).status_code in (302, 404)
    assert not Attachment.objects.filter(original_name="课堂.png").exists()
    # the owner's next submit, with the place and no file chosen again, keeps the photo
    r = c.post(url, {**BASE, "place": "会议室", "held-files": token})
    assert r.status_code == 302, r.content.decode()[:2000]
    activity = Activity.objects.filter(created_by=world.principal_a).get()
    att = activity.attachments.get()
    assert att.original_name == "课堂.png" and att.content_type == "image/png"
    assert att.file.read() == PNG
    # used once: the held copy is gone
    r = c.post(url, {**BASE, "held_on": "2016-10-13", "place": "会议室", "held-files": token})
    assert Attachment.objects.filter(original_name="课堂.png").count() == 1


def test_an_expired_or_forged_token_is_ignored(world, pair, client_for, settings):
    c = client_for(world.principal_a)
    url = reverse("pairing:activity_create", args=[pair.pk])
    settings.HELD_UPLOAD_TTL_MINUTES = 0
    token = _token(c.post(url, {**BASE, "place": "", "files": [png("旧.png")]}).content.decode())
    r = c.post(url, {**BASE, "place": "会议室", "held-files": token})
    assert r.status_code == 302 and not Attachment.objects.exists()
    r = c.post(url, {**BASE, "held_on": "2016-10-14", "place": "会议室", "held-files": "../../etc/passwd"})
    assert r.status_code == 302 and not Attachment.objects.exists()
