"""In a real Chromium at phone size (390 px): the inspector opens the group's cards, loses the network,
re-opens the page from the service worker's copy, checks a household with a photo; the result waits on
the phone, then arrives once with its photo when the network is back. Then the officer answers a finding
and the inspector closes it."""

import time

import pytest
from playwright.sync_api import expect

from inspections.models import CheckResult, Finding, HouseholdCheck, Photo

from .conftest import jpeg_bytes
from .helpers import confirmed_draw

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def until(page, fn, timeout=20.0):
    """Poll ``fn`` (page.evaluate runs over the DevTools protocol, so the page's CSP does not block it,
    unlike wait_for_function's in-page eval)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(fn):
            return
        time.sleep(0.25)
    raise AssertionError(f"not true after {timeout} s: {fn}")


def phone(_playwright, live_server, username):
    context = _playwright.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, service_workers="allow"
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-Jinpin-2016")
    page.click("main button[type=submit]")
    page.wait_for_url(live_server.url + "/home/")
    return context, page


def test_offline_check_arrives_once_with_its_photo_then_rectification(sv, _playwright, live_server, tmp_path):
    draw = confirmed_draw(sv)
    item = draw.items.order_by("stratum", "position").first()
    photo = tmp_path / "入户照片.jpg"
    photo.write_bytes(jpeg_bytes((800, 600)))
    context, page = phone(_playwright, live_server, "t_inspector")
    cards_url = f"{live_server.url}/inspections/groups/{sv.group.pk}/cards/"
    page.goto(cards_url)
    page.wait_for_selector(f"#card-{item.pk}")
    # the service worker is active and holds the page
    until(page, "() => navigator.serviceWorker.controller !== null")
    until(page, "async () => !!(await caches.match(location.pathname))")

    context.set_offline(True)
    page.reload()  # opened again without a network: from the service worker's copy
    page.wait_for_selector(f"#card-{item.pk}")
    assert "离线" in page.inner_text("#net-state") or "Offline" in page.inner_text("#net-state")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.click(f"#card-{item.pk} summary")
    form = page.locator(f"form.check-form[data-card='{item.pk}']")
    first_item = form.locator("select[data-item]").first
    first_item.select_option("0")
    form.locator("ol.checklist input[type=text]").first.fill("家庭人口与户口簿不符")
    form.locator("input[type=file]").set_input_files(str(photo))
    form.locator("button.save").click()
    expect(page.locator("#outbox-count")).to_have_text("2")
    assert page.locator("#outbox-list li").count() == 2
    assert not HouseholdCheck.objects.exists() and not Photo.objects.exists()

    context.set_offline(False)
    expect(page.locator("#outbox-count")).to_have_text("0", timeout=30_000)
    # sending again (a second flush, a retry after a lost answer) changes nothing
    page.evaluate("() => window.jinpinField.flush()")
    assert HouseholdCheck.objects.count() == 1
    check = HouseholdCheck.objects.get()
    assert check.item_id == item.pk and check.outcome == "visited"
    assert CheckResult.objects.filter(household_check=check, passed=False).count() == 1
    assert Photo.objects.count() == 1 and Photo.objects.get().item_id == item.pk
    assert "已发送" in page.inner_text(f"#state-{item.pk}") or "sent" in page.inner_text(f"#state-{item.pk}")

    # the inspector records a finding from the failed item
    result = CheckResult.objects.get(passed=False)
    page.goto(f"{live_server.url}/inspections/items/{item.pk}/")
    page.wait_for_selector("#photos img")
    page.click(f"a[href$='?result={result.pk}']")
    page.select_option("#id_category", label="档案资料不规范")
    page.select_option("#id_responsible_level", "village")
    page.fill("#id_responsible_unit", "李庄村委会")
    page.fill("#id_deadline", "2030-12-31")
    page.click("#finding-save")
    page.wait_for_selector("#finding-status[data-status=open]")
    finding = Finding.objects.get()

    # the county officer answers it
    octx, opage = phone(_playwright, live_server, "t_officer_a")
    opage.goto(f"{live_server.url}/inspections/findings/{finding.pk}/")
    assert opage.evaluate("() => document.documentElement.scrollWidth") <= 390
    opage.fill("#id_measures", "已更正档案家庭人口，村委会公示")
    opage.set_input_files("#id_evidence", str(photo))
    opage.click("#measures-submit")
    opage.wait_for_selector("#finding-status[data-status=submitted]")
    octx.close()

    # the inspector closes it
    page.goto(f"{live_server.url}/inspections/findings/{finding.pk}/")
    page.select_option("#id_decision", "close")
    page.click("#review-submit")
    page.wait_for_selector("#finding-status[data-status=closed]")
    finding.refresh_from_db()
    assert finding.status == "closed"
    assert list(finding.steps.values_list("action", flat=True)) == ["record", "submit", "close"]
    assert Photo.objects.filter(finding=finding).count() == 1
    context.close()


def field_data_on_phone(page) -> dict:
    """What of the field cards the phone holds: Cache Storage, the IndexedDB outbox, service workers."""
    return page.evaluate(
        """async () => ({
            caches: (await caches.keys()).length,
            idb: (await indexedDB.databases()).map(d => d.name).filter(n => n === "jinpin-field").length,
            workers: (await navigator.serviceWorker.getRegistrations()).length,
        })"""
    )


def open_cards(page, live_server, sv):
    cards_url = f"{live_server.url}/inspections/groups/{sv.group.pk}/cards/"
    page.goto(cards_url)
    page.wait_for_selector("[id^=card-]", state="attached")
    until(page, "() => navigator.serviceWorker.controller !== null")
    until(page, "async () => !!(await caches.match(location.pathname))")
    assert field_data_on_phone(page) == {"caches": 1, "idb": 1, "workers": 1}
    return cards_url


def test_logout_and_another_user_clear_the_cards_kept_on_the_phone(sv, _playwright, live_server):
    from jinpin.scope import Role
    from tests.factories import make_user

    confirmed_draw(sv)
    colleague = make_user(Role.INSPECTOR, username="t_inspector_2")
    sv.group.members.add(colleague)
    context, page = phone(_playwright, live_server, "t_inspector")
    cards_url = open_cards(page, live_server, sv)

    # something waits on the phone (held back, not sent): logging out asks first (dismissed: still logged in, nothing lost)
    page.evaluate(
        """() => new Promise(ok => { const r = indexedDB.open("jinpin-field", 1); r.onsuccess = () => {
            const t = r.result.transaction("outbox", "readwrite");
            t.objectStore("outbox").put({uuid: "u-1", type: "photo", created: Date.now(), label: "x", error: "held"});
            t.oncomplete = () => { r.result.close(); ok(); }; }; })"""
    )
    page.reload()
    expect(page.locator("#outbox-count")).to_have_text("1")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("form[action$='/accounts/logout/'] button")
    page.wait_for_timeout(500)
    assert asked and "1" in asked[0] and page.url == cards_url
    page.evaluate("() => window.jinpinField.outbox()")  # still there

    # logged out (accepting): the cached cards, the outbox and the service worker are gone
    page.once("dialog", lambda d: d.accept())
    page.click("form[action$='/accounts/logout/'] button")
    page.wait_for_url(f"{live_server.url}/accounts/login/**")
    assert field_data_on_phone(page) == {"caches": 0, "idb": 0, "workers": 0}
    context.set_offline(True)
    with pytest.raises(Exception):  # noqa: B017 - offline, nothing on the phone answers any more
        page.goto(cards_url)
    context.set_offline(False)

    # the inspector logs in again and opens the cards; the session then ends without a logout and a
    # colleague logs in on the same phone: the login clears the previous user's copy
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", "t_inspector")
    page.fill("input[name=password]", "pw-Jinpin-2016")
    page.click("main button[type=submit]")
    page.wait_for_url(live_server.url + "/home/")
    open_cards(page, live_server, sv)
    context.clear_cookies(name="sessionid")
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", "t_inspector_2")
    page.fill("input[name=password]", "pw-Jinpin-2016")
    page.click("main button[type=submit]")
    page.wait_for_url(live_server.url + "/home/")
    assert field_data_on_phone(page) == {"caches": 0, "idb": 0, "workers": 0}
    context.close()
