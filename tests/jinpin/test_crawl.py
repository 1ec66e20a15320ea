"""Issue 13: no raw codes where people read Chinese. For each role, a real Chromium signs in to the demo
city (``seed_demo``: every app's data, the subsidy year paid, a supervision campaign) and follows every
internal link reachable from the navigation (GET only, bounded; ``tests/crawl.py``), failing on
snake_case words, ``None``, ``True``/``False``, ``key:value`` codes, Python reprs and English model
names in the visible text. The counts per role are printed (run with ``-s``) and kept in README.md."""

import pytest
from django.core.management import call_command

from tests.crawl import crawl, model_words, summary

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

ROLES = ["admin", "officer_wenshang", "principal_weak", "inspector", "auditor"]
DEMO_PASSWORD = "Jinpin@2016"

#: pages whose raw codes another change removes; each entry names it (empty when none is pending)
PENDING: dict[str, str] = {}  # page shapes set aside (none: every page the roles reach is checked)


def test_every_page_reachable_by_each_role_reads_without_raw_codes(browser_page, capsys):
    import io
    import re

    call_command("seed_demo", stdout=io.StringIO())
    page = browser_page
    models = model_words()
    reports = []
    for username in ROLES:
        page.context.clear_cookies()
        page.login(username, password=DEMO_PASSWORD)
        reports.append(crawl(page, page.base, username, max_pages=120, per_shape=1, models=models))
    for r in reports:
        r.failures = [f for f in r.failures if re.sub(r"\d+", "#", f[0].split("?")[0]) not in PENDING]
    text = summary(reports)
    with capsys.disabled():
        print("\n" + text)
    assert all(r.pages >= 10 for r in reports), text  # each role really went through its pages
    assert [(r.role, r.tokens, r.errors) for r in reports] == [(r.role, 0, []) for r in reports], text


def test_the_token_patterns_catch_what_issue_13_saw():
    from tests.crawl import raw_tokens

    def kinds(text):
        return {k for k, _t in raw_tokens(text, model_words())}

    assert kinds("认定基准日情况 date 2016-09-01 dibao False tekun school 182") >= {"True/False", "English words"}
    assert kinds("来源 team_exchange") == {"snake_case"}
    assert kinds("None → 是") == {"None"}
    assert kinds("条件 stage:primary 1000.00") == {"key:value"}
    assert kinds("{'type': 'm2m'}") >= {"Python repr"}
    assert kinds("teachers.ServicePeriod.None") >= {"app.Model", "None"}
    assert "English model name" in kinds("追回：Recovery object (1)")
    assert kinds("汶上县教育局 · 2016-09-26 · 4,123,350.00 元 · bank-file.xlsx · a@b.cn · https://x.cn/a_b") == set()
