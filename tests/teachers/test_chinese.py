"""Bad input gets a clear Chinese message (the zh-hans catalogue, the default language)."""

import datetime as dt

from django.urls import reverse

from jinpin import idcard


def test_checksum_duplicate_and_overlap_messages_are_chinese(world, staff, client_for):
    c = client_for(world.officer_a)
    number = idcard.make("370830", dt.date(1988, 3, 4), 211, "M")
    data = {
        "id_number": number[:17] + ("0" if number[17] != "0" else "1"),
        "name": "赵建国",
        "school": world.weak_a.pk,
        "post": "teacher",
        "professional_title": "none",
        "in_post_since": "2016-09-01",
    }
    r = c.post(reverse("teachers:teacher_create"), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "校验位" in " ".join(r.context["form"].errors["id_number"])
    r = c.post(
        reverse("teachers:teacher_create"), dict(data, id_number=staff.weak_b.id_number), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    msg = " ".join(r.context["form"].errors["id_number"])
    assert staff.weak_b.name not in msg and any("\u4e00" <= ch <= "\u9fff" for ch in msg)
    url = reverse("teachers:period_add", args=[staff.weak_a.pk])
    r = c.post(
        url,
        {"school_code": world.strong_a.code, "start": "2012-01-01", "full_time": "on", "kind": "record"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        follow=True,
    )
    assert any("全职" in str(m) for m in r.context["messages"])
